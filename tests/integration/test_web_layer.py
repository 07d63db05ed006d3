"""What the shared web layer does for every service: readiness, the OpenAPI
document of its errors, the methods a path allows, the docs served offline."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.api import a_report_body, serve_api


async def fine() -> None:
    return None


async def no_channel() -> str:
    return "no delivery channel is set up"


async def broken() -> str:
    raise RuntimeError("cannot tell")


class TestReadiness:
    async def test_ready_when_every_check_passes(self, database_url):
        async with serve_api(database_url, checks={"channels": fine}) as api:
            response = await api.http.get("/ready")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "checks": {
                "database": True,
                "migrations": True,
                "workers": True,
                "channels": True,
            },
            "problems": {},
        }

    async def test_a_service_check_failing_is_degraded_not_down(self, database_url):
        """200: the process works, and taking it out would change nothing."""
        checks = {"channels": no_channel, "other": broken}
        async with serve_api(database_url, checks=checks) as api:
            response = await api.http.get("/ready")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["channels"] is False and body["checks"]["other"] is False
        assert body["problems"] == {
            "channels": "no delivery channel is set up",
            "other": "the check failed: RuntimeError",
        }

    async def test_a_database_behind_on_migrations_is_not_ready(self, database_url):
        async with serve_api(database_url, checks={"channels": no_channel}) as api:
            async with api.store.engine.begin() as conn:
                await conn.execute(
                    text("UPDATE alembic_version SET version_num='0001'")
                )
            response = await api.http.get("/ready")
        assert response.status_code == 503
        assert response.json()["status"] == "not_ready"
        assert response.json()["checks"]["migrations"] is False


class TestTheDocument:
    """The errors every operation can answer are in the OpenAPI document, with the
    bodies the API sends (the whole run against the API: tests/e2e/test_fuzz_api.py)."""

    async def test_every_error_is_declared_with_its_real_body(self, sqlite_database):
        async with serve_api(sqlite_database) as api:
            document = (await api.http.get("/openapi.json")).json()
        schemas = document["components"]["schemas"]
        assert "ValidationError" not in schemas  # FastAPI's {loc, msg, type}
        assert schemas["Problem"]["required"] == ["field", "reason"]
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                responses = operation["responses"]
                expected = set()
                if "security" in operation:
                    expected |= {"401", "403", "422", "429"}
                if method in ("post", "put"):
                    expected |= {"413", "415"}
                if "requestBody" in operation:
                    expected |= {"400", "422"}
                assert expected <= set(responses), (method, path)
                for status, response in responses.items():
                    if status[0] in "45":
                        body = response["content"]["application/json"]["schema"]
                        assert body, (method, path, status)
                if "422" in responses:
                    assert responses["422"]["content"]["application/json"][
                        "schema"
                    ] == {"$ref": "#/components/schemas/Problems"}

    async def test_a_report_for_another_force_is_documented_as_answered(
        self, sqlite_database
    ):
        async with serve_api(sqlite_database) as api:
            document = (await api.http.get("/openapi.json")).json()
            refused = await api.post(
                "/v1/missing-reports", a_report_body(police_force="MET")
            )
        declared = document["paths"]["/v1/missing-reports"]["post"]["responses"]["403"]
        schema = declared["content"]["application/json"]["schema"]
        assert {"$ref": "#/components/schemas/Problems"} in schema["anyOf"]
        assert refused.status_code == 403
        assert refused.json()["detail"][0]["field"] == "police_force"


async def test_a_method_not_allowed_names_every_method_of_the_path(sqlite_database):
    async with serve_api(sqlite_database) as api:
        response = await api.http.request("PATCH", "/v1/recipients/duty")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, PUT"


async def test_the_docs_load_nothing_from_elsewhere(sqlite_database):
    """Swagger UI's assets come from the package: /docs works offline."""
    async with serve_api(sqlite_database) as api:
        page = await api.http.get("/docs")
        assert page.status_code == 200
        assert "SwaggerUIBundle" in page.text
        assert not re.search(r"https?://|['\"]//", page.text), page.text
        urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
        assets = {url: await api.http.get(url) for url in urls}
    assert {url.rsplit("/", 1)[-1] for url in urls} >= {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "openapi.json",
    }
    for url, answer in assets.items():
        assert answer.status_code == 200, url
    assert (
        assets["/docs/assets/swagger-ui.css"]
        .headers["content-type"]
        .startswith("text/css")
    )
