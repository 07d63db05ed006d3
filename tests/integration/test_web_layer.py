"""What the shared web layer does for every service: readiness."""

from __future__ import annotations

from sqlalchemy import text

from tests.api import serve_api


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
