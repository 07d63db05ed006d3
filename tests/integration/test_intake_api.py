"""The police-facing API over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import event, select

from events.contracts.alerts import AlertContact, AlertRaised
from events.contracts.missing import Child, ChildMatch, RiskGrade
from events.envelope import NewEvent
from events.store import Append, Commit
from services.api import auth
from services.api.ratelimit import RateLimiter
from services.records.children import ChildMatcher
from services.records.tables import alerted_roles, children, episodes
from tests.api import Api, a_report_body, serve_api
from tests.waiting import HTTP_TIMEOUT


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve_api(database_url) as api:
        yield api


CHILD = a_report_body()["child"]
PLACEMENT = a_report_body()["placement"]
NOW = datetime.now(UTC).isoformat()
AN_HOUR_AGO = str(int(datetime.now(UTC).timestamp()) - 3600)  # a Unix time
DAY = 1_300_060_800  # 2011-03-14 as a Unix time
FOUND = {"found_at": NOW, "returned_to": "placement", "safe_and_well_check": True}


async def _stream_length(api: Api, episode_id: str) -> int:
    return len(await api.store.read_stream(f"episode-{episode_id}"))


async def _report(api: Api, reference: str = "KNT-1", **overrides) -> str:
    response = await api.post(
        "/v1/missing-reports", a_report_body(reference, **overrides)
    )
    assert response.status_code == 202, response.text
    return str(response.json()["episode_id"])


class TestReportMissing:
    async def test_accepted_report_is_durable_and_readable(self, api: Api):
        response = await api.post("/v1/missing-reports", a_report_body())
        assert response.status_code == 202
        episode_id = response.json()["episode_id"]
        assert response.headers["Location"] == f"/v1/episodes/{episode_id}"

        episode = (await api.get(f"/v1/episodes/{episode_id}")).json()

        assert episode["status"] == "open"
        assert episode["police_risk_grade"] == "medium"
        assert episode["child_match"] == "unmatched"
        assert [t["event"] for t in episode["timeline"]] == ["MissingReported"]
        [recorded] = await api.store.read_stream(f"episode-{episode_id}")
        assert recorded.actor == "client:kent"

    async def test_same_report_again_answers_200_and_appends_nothing(self, api: Api):
        episode_id = await _report(api)
        again = await api.post("/v1/missing-reports", a_report_body())
        assert again.status_code == 200
        assert again.json()["episode_id"] == episode_id
        assert await _stream_length(api, episode_id) == 1

    async def test_concurrent_duplicates_record_one_episode(self, api: Api):
        body = a_report_body("KNT-RACE")
        responses = await asyncio.gather(
            *(api.post("/v1/missing-reports", body) for _ in range(8))
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] * 7 + [202]
        assert len({r.json()["episode_id"] for r in responses}) == 1
        assert await _stream_length(api, responses[0].json()["episode_id"]) == 1

    async def test_changed_repost_is_409_naming_the_fields(self, api: Api):
        episode_id = await _report(api)
        changed = a_report_body(police_risk_grade="high", circumstances="other")
        response = await api.post("/v1/missing-reports", changed)
        assert response.status_code == 409
        assert response.json()["detail"]["fields"] == [
            "circumstances",
            "police_risk_grade",
        ]
        assert await _stream_length(api, episode_id) == 1

    async def test_legacy_absent_grade_is_stored_as_no_apparent_risk(self, api: Api):
        episode_id = await _report(api, police_risk_grade="absent")
        [event] = await api.store.read_stream(f"episode-{episode_id}")
        assert event.data["police_risk_grade"] == "no_apparent_risk"
        assert event.data["police_risk_grade_reported_as"] == "absent"


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"police_risk_grade": "extreme"}, "police_risk_grade"),
            ({"episode_type": "gone"}, "episode_type"),
            ({"missing_since": "yesterday"}, "missing_since"),
            ({"missing_since": "2026-01-01T10:00:00"}, "missing_since"),  # no zone
            ({"child": {"given_name": "Sam"}}, "child.family_name"),
            (
                {
                    "placement": {
                        "placing_authority": "999",
                        "placement_type": "foster_care",
                    }
                },
                "placement.placing_authority",
            ),
            (
                {
                    "child": {
                        "given_name": "A",
                        "family_name": "B",
                        "date_of_birth": "2001-01-01",
                        "gender": "male",
                    }
                },
                "child.date_of_birth",
            ),
            ({"unexpected": 1}, "unexpected"),
            ({"missing_since": 12345}, "missing_since"),  # not a Unix time
            ({"missing_since": "12345"}, "missing_since"),
            ({"child": {**CHILD, "date_of_birth": DAY}}, "child.date_of_birth"),
            (
                {"child": {**CHILD, "date_of_birth": "2011-05-14T00:00:00Z"}},
                "child.date_of_birth",
            ),
            ({"child": {**CHILD, "given_name": "B\ud800d"}}, "child.given_name"),
            ({"child": {**CHILD, "family_name": "B\x00d"}}, "child.family_name"),
            ({"circumstances": "Seen at\x00 the station"}, "circumstances"),
            ({"last_seen": {"description": "\udc00"}}, "last_seen.description"),
            ({"child": {**CHILD, "given_name": ""}}, "child.given_name"),
            ({"child": {**CHILD, "family_name": " \t "}}, "child.family_name"),
            ({"child": {**CHILD, "given_name": "S" * 60_000}}, "child.given_name"),
            ({"child": {**CHILD, "la_child_id": "C" * 201}}, "child.la_child_id"),
            ({"child": {**CHILD, "la_child_id": " "}}, "child.la_child_id"),
            ({"placement": {**PLACEMENT, "postcode": "x" * 201}}, "placement.postcode"),
        ],
    )
    async def test_invalid_body_is_422_naming_the_field(self, api: Api, change, field):
        head = await api.store.head()
        response = await api.post("/v1/missing-reports", {**a_report_body(), **change})
        assert response.status_code == 422, response.text
        assert field in [p["field"] for p in response.json()["detail"]]
        assert await api.store.head() == head

    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("updates", {"received_at": int(AN_HOUR_AGO), "information": "x"},
             "received_at"),
            ("updates", {"received_at": NOW, "information": "\x00"}, "information"),
            ("updates", {"received_at": NOW, "sighting": {"seen_at": AN_HOUR_AGO}},
             "sighting.seen_at"),
            ("found", {**FOUND, "safe_and_well_check": "yes"}, "safe_and_well_check"),
            ("found", {**FOUND, "safe_and_well_check": 1}, "safe_and_well_check"),
            ("found", {**FOUND, "found_location": "\ud800"}, "found_location"),
            ("withdrawal", {"reason": "cancelled", "note": " "}, "note"),
        ],
    )  # fmt: skip
    async def test_invalid_episode_command_is_422_naming_the_field(
        self, api: Api, path, body, field
    ):
        episode_id = await _report(api)
        head = await api.store.head()
        response = await api.post(f"/v1/episodes/{episode_id}/{path}", body)
        assert response.status_code == 422, response.text
        assert field in [p["field"] for p in response.json()["detail"]]
        assert await api.store.head() == head

    async def test_an_overlong_header_is_422_naming_the_header(self, api: Api):
        episode_id = await _report(api)
        response = await api.post(
            f"/v1/episodes/{episode_id}/updates",
            {"received_at": NOW, "information": "Phone back on"},
            headers={"Idempotency-Key": "k" * 101},
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "Idempotency-Key"

    async def test_missing_since_in_the_future_is_refused(self, api: Api):
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        response = await api.post(
            "/v1/missing-reports",
            a_report_body(missing_since=future, reported_at=future),
        )
        assert response.status_code == 422
        assert "missing_since" in [p["field"] for p in response.json()["detail"]]

    async def test_not_json_malformed_and_too_large(self, api: Api):
        auth = api.auth("kent")
        post = api.http.post
        text_plain = {**auth, "Content-Type": "text/plain"}
        as_json = {**auth, "Content-Type": "application/json"}
        assert (
            await post("/v1/missing-reports", content=b"{}", headers=text_plain)
        ).status_code == 415
        assert (
            await post("/v1/missing-reports", content=b"{oops", headers=as_json)
        ).status_code == 400
        big = b'{"circumstances": "' + b"x" * 70_000 + b'"}'
        assert (
            await post("/v1/missing-reports", content=big, headers=as_json)
        ).status_code == 413
        assert await api.store.head() == 0

    @pytest.mark.parametrize(
        "content",
        [
            pytest.param(b"[" * 30_000 + b"]" * 30_000, id="nested too deep"),
            pytest.param(b'{"circumstances": "\xff\xfe"}', id="invalid UTF-8"),
            pytest.param(b'{"police_force": 1' + b"0" * 5000 + b"}", id="huge integer"),
            pytest.param(b'{"police_force": "KENT"', id="cut short"),
        ],
    )
    async def test_a_body_that_is_not_json_is_400_malformed(
        self, api: Api, content: bytes
    ):
        as_json = {**api.auth("kent"), "Content-Type": "application/json"}
        response = await api.http.post(
            "/v1/missing-reports", content=content, headers=as_json
        )
        assert (response.status_code, response.json()) == (
            400,
            {"detail": "malformed JSON body"},
        )

    async def test_a_body_sent_in_chunks_is_counted_as_it_arrives(self, api: Api):
        """No Content-Length to check: the guard counts what arrives."""
        as_json = {**api.auth("kent"), "Content-Type": "application/json"}

        async def chunks(body: bytes) -> AsyncIterator[bytes]:
            for start in range(0, len(body), 8192):
                yield body[start : start + 8192]

        big = json.dumps(a_report_body(circumstances="x" * 70_000)).encode()
        response = await api.http.post(
            "/v1/missing-reports", content=chunks(big), headers=as_json
        )
        assert response.status_code == 413
        assert await api.store.head() == 0
        small = json.dumps(a_report_body()).encode()
        response = await api.http.post(
            "/v1/missing-reports", content=chunks(small), headers=as_json
        )
        assert response.status_code == 202, response.text


class TestWhoMayCall:
    async def test_no_token_or_a_bad_one_is_401(self, api: Api):
        assert (await api.http.get("/v1/episodes")).status_code == 401
        bad = {"Authorization": "Bearer lnt_nope"}
        assert (await api.http.get("/v1/episodes", headers=bad)).status_code == 401

    async def test_a_token_under_another_scheme_is_401(self, api: Api):
        token = api.auth("kent")["Authorization"].removeprefix("Bearer ")
        for header in (f"Basic {token}", token, "Bearer"):
            response = await api.http.get(
                "/v1/episodes", headers={"Authorization": header}
            )
            assert response.status_code == 401, header
            assert response.headers["WWW-Authenticate"] == "Bearer"
        lower = {"Authorization": f"bearer {token}"}
        assert (await api.http.get("/v1/episodes", headers=lower)).status_code == 200

    async def test_the_callers_correlation_id_is_recorded(self, api: Api):
        correlation = uuid.uuid4()
        response = await api.post(
            "/v1/missing-reports",
            a_report_body(),
            headers={"X-Correlation-ID": str(correlation)},
        )
        assert response.status_code == 202
        [recorded] = await api.store.read_stream(
            f"episode-{response.json()['episode_id']}"
        )
        assert recorded.correlation_id == correlation

    async def test_a_malformed_correlation_id_is_422_and_records_nothing(
        self, api: Api
    ):
        response = await api.post(
            "/v1/missing-reports",
            a_report_body(),
            headers={"X-Correlation-ID": "not-a-uuid"},
        )
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"field": "X-Correlation-ID", "reason": "is not a UUID"}
        ]
        assert await api.store.head() == 0

    async def test_the_openapi_document_says_how_to_authenticate(self, api: Api):
        spec = (await api.http.get("/openapi.json")).json()
        assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
        report = spec["paths"]["/v1/missing-reports"]["post"]
        assert report["security"] == [{"HTTPBearer": []}]
        assert "X-Correlation-ID" in [p["name"] for p in report["parameters"]]

    async def test_a_flood_of_bad_tokens_neither_grows_memory_nor_locks_out_others(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setattr(auth, "MAX_CACHED", 5)
        for n in range(20):
            bad = {"Authorization": f"Bearer lnt_guess{n}"}
            assert (await api.http.get("/v1/episodes", headers=bad)).status_code == 401
        assert (await api.get("/v1/episodes")).status_code == 200
        assert len(api.clients._cache) <= 5

    async def test_failed_authentication_is_limited_per_address(self, database_url):
        """A burst of bad tokens, then 429 with Retry-After for anything from that
        address (its tokens are no longer even looked up); other addresses go on."""
        async with serve_api(database_url, failures=RateLimiter(6, burst=5)) as api:
            bad = {"Authorization": "Bearer lnt_guess"}
            codes = [
                (await api.http.get("/v1/episodes", headers=bad)).status_code
                for _ in range(20)
            ]
            missing = await api.http.get("/v1/episodes")
            good_here = await api.get("/v1/episodes")
            elsewhere = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
            async with httpx.AsyncClient(
                timeout=HTTP_TIMEOUT,
                base_url=str(api.http.base_url),
                transport=elsewhere,
            ) as other:
                good_elsewhere = await other.get(
                    "/v1/episodes", headers=api.auth("kent")
                )
                bad_elsewhere = await other.get("/v1/episodes", headers=bad)

        assert codes == [401] * 5 + [429] * 15
        assert (missing.status_code, good_here.status_code) == (429, 429)
        assert 1 <= int(good_here.headers["Retry-After"]) <= 10
        assert (good_elsewhere.status_code, bad_elsewhere.status_code) == (200, 401)

    async def test_requests_with_an_expired_token_share_one_lookup(self, api: Api):
        """Under load every request misses when a cached token expires: one query
        serves them all, instead of one each holding a database connection."""
        lookups: list[str] = []

        def count(_conn, _cursor, statement: str, *_: object) -> None:
            if "api_clients" in statement:
                lookups.append(statement)

        event.listen(api.clients.engine.sync_engine, "before_cursor_execute", count)
        api.clients._cache.clear()
        responses = await asyncio.gather(*(api.get("/v1/episodes") for _ in range(10)))
        assert [r.status_code for r in responses] == [200] * 10
        assert len(lookups) == 1

    async def test_another_forces_episode_is_404(self, api: Api):
        episode_id = await _report(api)
        assert (
            await api.get(f"/v1/episodes/{episode_id}", client="met")
        ).status_code == 404
        update = {"received_at": datetime.now(UTC).isoformat(), "information": "x"}
        response = await api.post(
            f"/v1/episodes/{episode_id}/updates", update, client="met"
        )
        assert response.status_code == 404
        listed = (await api.get("/v1/episodes", client="met")).json()
        assert listed["items"] == []

    async def test_reporting_for_another_force_is_403(self, api: Api):
        response = await api.post("/v1/missing-reports", a_report_body(), client="met")
        assert response.status_code == 403
        assert response.json()["detail"][0]["field"] == "police_force"

    async def test_integrator_cannot_use_police_routes(self, api: Api):
        assert (await api.get("/v1/episodes", client="cms")).status_code == 403

    async def test_rate_limit_answers_429_with_retry_after(self, database_url: str):
        async with serve_api(database_url, per_minute=2) as api:
            codes = [(await api.get("/v1/episodes")).status_code for _ in range(3)]
            limited = await api.get("/v1/episodes")
        assert codes == [200, 200, 429]
        assert int(limited.headers["Retry-After"]) >= 1


class TestEpisodeLifecycle:
    async def test_update_appends_one_event_per_change(self, api: Api):
        episode_id = await _report(api)
        now = datetime.now(UTC).isoformat()
        update = {
            "received_at": now,
            "police_risk_grade": "high",
            "reason": "seen with older men",
            "sighting": {"seen_at": now, "postcode": "ME15 6AA"},
            "information": "Phone back on",
        }
        response = await api.post(f"/v1/episodes/{episode_id}/updates", update)
        assert response.status_code == 202
        assert response.json()["recorded"] == [
            "PoliceRiskGradeChanged",
            "ChildSighted",
            "InformationAdded",
        ]
        episode = (await api.get(f"/v1/episodes/{episode_id}")).json()
        assert episode["police_risk_grade"] == "high"

    async def test_same_grade_again_changes_nothing(self, api: Api):
        episode_id = await _report(api)
        update = {
            "received_at": datetime.now(UTC).isoformat(),
            "police_risk_grade": "medium",
        }
        response = await api.post(f"/v1/episodes/{episode_id}/updates", update)
        assert response.status_code == 200
        assert await _stream_length(api, episode_id) == 1

    async def test_update_with_idempotency_key_is_recorded_once(self, api: Api):
        episode_id = await _report(api)
        update = {"received_at": datetime.now(UTC).isoformat(), "information": "x"}
        key = {"Idempotency-Key": "force-msg-77"}
        first = await api.post(
            f"/v1/episodes/{episode_id}/updates", update, headers=key
        )
        again = await api.post(
            f"/v1/episodes/{episode_id}/updates", update, headers=key
        )
        assert (first.status_code, again.status_code) == (202, 200)
        assert await _stream_length(api, episode_id) == 2

    async def test_found_closes_the_episode(self, api: Api):
        episode_id = await _report(api)
        found = {
            "found_at": datetime.now(UTC).isoformat(),
            "returned_to": "placement",
            "safe_and_well_check": True,
        }
        response = await api.post(f"/v1/episodes/{episode_id}/found", found)
        assert (response.status_code, response.json()["status"]) == (202, "found")
        assert (
            await api.post(f"/v1/episodes/{episode_id}/found", found)
        ).status_code == 200
        withdrawal = {"reason": "cancelled"}
        late = await api.post(f"/v1/episodes/{episode_id}/withdrawal", withdrawal)
        assert late.status_code == 409
        update = {"received_at": datetime.now(UTC).isoformat(), "information": "x"}
        closed = await api.post(f"/v1/episodes/{episode_id}/updates", update)
        assert closed.status_code == 409

    async def test_found_before_missing_is_refused(self, api: Api):
        episode_id = await _report(api)
        found = {
            "found_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "returned_to": "placement",
            "safe_and_well_check": False,
        }
        response = await api.post(f"/v1/episodes/{episode_id}/found", found)
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "found_at"

    async def test_withdrawal(self, api: Api):
        episode_id = await _report(api)
        response = await api.post(
            f"/v1/episodes/{episode_id}/withdrawal", {"reason": "reported_in_error"}
        )
        assert (response.status_code, response.json()["status"]) == (202, "withdrawn")

    async def test_open_episodes_are_listed_in_pages(self, api: Api):
        ids = [await _report(api, f"KNT-{n}") for n in range(5)]
        await api.post(f"/v1/episodes/{ids[0]}/withdrawal", {"reason": "cancelled"})

        first = (
            await api.get("/v1/episodes", params={"status": "open", "limit": 3})
        ).json()
        rest = (
            await api.get(
                "/v1/episodes",
                params={"status": "open", "limit": 3, "cursor": first["next_cursor"]},
            )
        ).json()

        listed = [e["episode_id"] for e in first["items"] + rest["items"]]
        assert listed == ids[1:]
        assert rest["next_cursor"] is None


class TestReclassification:
    """Missing (whereabouts unknown, SSDA903 M) or away (known, A): the police or
    council staff say which, and why; the episode records who (DOMAIN 1.2, 3.2)."""

    AWAY: ClassVar[dict[str, str]] = {
        "episode_type": "away",
        "reason": "carer has spoken to her: she is at her aunt's",
    }

    async def test_the_police_reclassify_their_episode(self, api: Api):
        episode_id = await _report(api)
        path = f"/v1/episodes/{episode_id}/reclassification"
        response = await api.post(path, self.AWAY)
        assert (response.status_code, response.json()["recorded"]) == (
            202, ["EpisodeReclassified"],
        )  # fmt: skip
        *_, event = await api.store.read_stream(f"episode-{episode_id}")
        assert {**event.data, "reclassified_at": None} == {
            "episode_id": episode_id, "previous": "missing", "episode_type": "away",
            "reason": self.AWAY["reason"], "by": "client:kent", "role": "police",
            "reclassified_at": None,
        }  # fmt: skip
        assert event.actor == "client:kent"
        episode = (await api.get(f"/v1/episodes/{episode_id}")).json()
        assert episode["episode_type"] == "away"
        async with api.store.engine.connect() as conn:
            kind = await conn.scalar(
                select(episodes.c.episode_type).where(
                    episodes.c.episode_id == uuid.UUID(episode_id)
                )
            )
        assert kind == "away"

    async def test_council_staff_reclassify_any_episode_back_again(self, api: Api):
        episode_id = await _report(api)
        path = f"/v1/episodes/{episode_id}/reclassification"
        assert (await api.post(path, self.AWAY)).status_code == 202
        back = {"episode_type": "missing", "reason": "she has left her aunt's"}
        response = await api.post(path, back, client="oncall")
        assert response.status_code == 202
        *_, event = await api.store.read_stream(f"episode-{episode_id}")
        assert (event.data["previous"], event.data["episode_type"]) == (
            "away", "missing",
        )  # fmt: skip
        assert (event.data["role"], event.data["by"]) == ("staff", "client:oncall")

    async def test_the_type_it_has_already_is_a_repeat(self, api: Api):
        episode_id = await _report(api)
        path = f"/v1/episodes/{episode_id}/reclassification"
        same = {"episode_type": "missing", "reason": "still missing"}
        assert (await api.post(path, same)).status_code == 200
        assert await _stream_length(api, episode_id) == 1

    async def test_who_may_and_what_is_refused(self, api: Api):
        episode_id = await _report(api)
        path = f"/v1/episodes/{episode_id}/reclassification"
        assert (await api.post(path, self.AWAY, client="met")).status_code == 404
        assert (await api.post(path, self.AWAY, client="cms")).status_code == 403
        no_reason = await api.post(path, {"episode_type": "away"})
        assert no_reason.status_code == 422
        assert no_reason.json()["detail"][0]["field"] == "reason"
        await api.post(f"/v1/episodes/{episode_id}/withdrawal", {"reason": "cancelled"})
        assert (await api.post(path, self.AWAY)).status_code == 409
        assert await _stream_length(api, episode_id) == 2


class TestChildrenDirectory:
    CHILD: ClassVar[dict[str, object]] = {
        "given_name": "Sam",
        "family_name": "Taylor",
        "date_of_birth": "2011-05-14",
        "looked_after": True,
        "uasc": False,
        "placing_authority": "886",
        "ola": False,
        "social_worker": {"name": "Alex Morgan", "email": "a.morgan@example.org"},
    }

    async def _put(self, api: Api, la_child_id: str, **changes) -> int:
        response = await api.http.put(
            f"/v1/children/{la_child_id}",
            json={**self.CHILD, **changes},
            headers=api.auth("cms"),
        )
        return response.status_code

    async def _match(self, api: Api, episode_id: str) -> str:
        return str((await api.get(f"/v1/episodes/{episode_id}")).json()["child_match"])

    async def test_matched_by_id_then_by_name_and_birth_date(self, api: Api):
        assert await self._put(api, "C1") == 200
        child = {**a_report_body()["child"], "la_child_id": "C1", "given_name": "Other"}
        by_id = await _report(api, "KNT-A", child=child)
        by_name = await _report(api, "KNT-B")
        assert await self._match(api, by_id) == "matched"
        assert await self._match(api, by_name) == "matched"

    async def test_two_children_alike_make_an_ambiguous_match(self, api: Api):
        await self._put(api, "C1")
        await self._put(api, "C2")
        assert await self._match(api, await _report(api)) == "ambiguous"

    async def test_reports_arriving_together_are_each_matched_on_their_own(
        self, api: Api
    ):
        await self._put(api, "C1")
        await self._put(api, "C2", given_name="Alex", date_of_birth="2012-01-02")
        child = a_report_body()["child"]
        children_reported = {
            "KNT-A": child,
            "KNT-B": {**child, "given_name": "Alex", "date_of_birth": "2012-01-02"},
            "KNT-C": {**child, "la_child_id": "C2", "given_name": "Other"},
            "KNT-D": {**child, "given_name": "Nobody"},
        }
        ids = await asyncio.gather(
            *(_report(api, ref, child=c) for ref, c in children_reported.items())
        )
        async with api.store.engine.connect() as conn:
            keys = dict(
                (
                    await conn.execute(
                        select(episodes.c.episode_id, episodes.c.child_key)
                    )
                ).all()
            )
        assert [keys[uuid.UUID(i)] for i in ids] == [
            "id:C1",
            "id:C2",
            "id:C2",
            "name:nobody taylor|2011-05-14",
        ]

    async def test_periods_of_care_are_recorded_with_the_child(self, api: Api):
        periods = [
            {"start_date": "2019-04-01", "end_date": "2020-03-31"},
            {"start_date": "2020-03-31", "end_date": None},
        ]
        assert await self._put(api, "C1", care_periods=periods) == 200
        [recorded] = await api.store.read_stream("child-C1")
        assert recorded.schema_version == 2
        assert recorded.data["care_periods"] == periods
        assert await self._put(api, "C1", care_periods=periods) == 200
        assert len(await api.store.read_stream("child-C1")) == 1  # unchanged

    @pytest.mark.parametrize(
        ("periods", "field"),
        [
            (
                [{"start_date": "2020-01-02", "end_date": "2020-01-01"}],
                "care_periods[0].end_date",
            ),
            (
                [
                    {"start_date": "2019-01-01", "end_date": None},
                    {"start_date": "2020-01-01", "end_date": "2020-02-01"},
                ],
                "care_periods[1].start_date",
            ),
            ([{"start_date": "2020-02-30"}], "care_periods.0.start_date"),
        ],
    )
    async def test_bad_periods_of_care_are_422_naming_the_period(
        self, api: Api, periods, field
    ):
        response = await api.http.put(
            "/v1/children/C1",
            json={**self.CHILD, "care_periods": periods},
            headers=api.auth("cms"),
        )
        assert response.status_code == 422
        assert field in [p["field"] for p in response.json()["detail"]]
        assert await api.store.read_stream("child-C1") == []

    async def test_a_poisoned_report_fails_alone(self, api: Api):
        """Reports arriving together share one lookup of the children's records:
        a report with text no database takes must not take the others down."""
        await self._put(api, "C1")
        poisoned = {**CHILD, "given_name": "B\ud800d"}

        def post(n: int) -> Any:
            force, client = ("KENT", "kent") if n % 2 else ("MET", "met")
            body = a_report_body(f"REF-{n}", police_force=force)
            if n % 6 == 0:
                body["child"] = poisoned
            return api.post("/v1/missing-reports", body, client=client)

        responses = await asyncio.gather(*(post(n) for n in range(30)))

        codes = [r.status_code for r in responses]
        assert codes == [422 if n % 6 == 0 else 202 for n in range(30)], codes

    async def test_a_lookup_failing_for_one_child_fails_for_that_child_alone(
        self, api: Api
    ):
        await self._put(api, "C1")
        matcher = ChildMatcher(api.store)
        known = Child.model_validate(CHILD)
        unstorable = known.model_copy(update={"family_name": "T\ud800"})

        results = await asyncio.gather(
            matcher.match(known),
            matcher.match(unstorable),
            matcher.match(known.model_copy(update={"la_child_id": "C1"})),
            return_exceptions=True,
        )

        first, failed, last = results
        assert isinstance(failed, Exception)
        assert (first, last) == (
            ChildMatch(status="matched", la_child_id="C1", candidates=1),
            ChildMatch(status="matched", la_child_id="C1", candidates=1),
        )

    async def test_names_and_ids_are_bounded_like_other_text(self, api: Api):
        assert await self._put(api, "C" * 41) == 422
        assert await self._put(api, "C1", given_name=" ") == 422
        assert await self._put(api, "C1", family_name="T" * 201) == 422
        assert await self._put(api, "C1", social_worker={"name": "\x00"}) == 422
        assert await self._put(api, "C1", looked_after="true") == 422
        assert await self._put(api, "C1", date_of_birth=DAY) == 422
        assert await self._put(api, "C1") == 200

    async def test_only_integrators_feed_it(self, api: Api):
        response = await api.http.put(
            "/v1/children/C9", json=self.CHILD, headers=api.auth("kent")
        )
        assert response.status_code == 403
        assert await self._put(api, "C9", placing_authority="000") == 422


async def _alert(api: Api, episode_id: str, *roles: str) -> None:
    """The notifier's record of alerting each role, as its handlers append it."""
    appends = []
    for n, role in enumerate(roles):
        alert_id = uuid.uuid4()
        raised = AlertRaised(
            alert_id=alert_id, episode_id=uuid.UUID(episode_id), role=role,
            scope="full", level=RiskGrade.high,
            contact=AlertContact(recipient_id=f"{role}-{n}", email="x@council.example"),
            channels=["email"], escalate_at=None, raised_at=datetime.now(UTC),
        )  # fmt: skip
        appends.append(Append(f"alert-{alert_id}", [NewEvent(event=raised)]))
    await api.store.commit(Commit(appends))


class TestAlertedRoles:
    async def test_the_roles_alerted_are_shown_in_the_order_first_alerted(
        self, api: Api
    ):
        episode_id = await _report(api)
        assert (await api.get(f"/v1/episodes/{episode_id}")).json()[
            "alerted_roles"
        ] == []
        await _alert(api, episode_id, "social_worker", "mcet")
        await _alert(api, episode_id, "team_manager", "mcet")  # mcet: once
        await _alert(api, await _report(api, "KNT-2"), "home_authority")

        episode = (await api.get(f"/v1/episodes/{episode_id}")).json()

        assert episode["alerted_roles"] == ["social_worker", "mcet", "team_manager"]


async def test_read_models_rebuild_from_the_log_to_the_same_state(api: Api):
    ids = [await _report(api, f"KNT-{n}") for n in range(3)]
    await _alert(api, ids[0], "duty_team", "mcet")
    await api.post(f"/v1/episodes/{ids[1]}/withdrawal", {"reason": "cancelled"})
    await api.http.put(
        "/v1/children/C1", json=TestChildrenDirectory.CHILD, headers=api.auth("cms")
    )
    before = await _read_models(api)
    assert before[2], "the roles alerted are part of what is rebuilt"

    replayed = await api.store.rebuild_projections()

    assert replayed == await api.store.head()
    assert await _read_models(api) == before


async def test_a_rebuild_while_reports_arrive_projects_each_once(api: Api):
    """The rebuild holds the append lock: a report arriving meanwhile waits for it,
    then is projected by its own append, once (docs/operations.md)."""
    ids = [await _report(api, f"KNT-{n}") for n in range(3)]
    late: list[asyncio.Future[str]] = []
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if not late:  # a report arrives while the rebuild is under way
            late.append(asyncio.ensure_future(_report(api, "KNT-LATE")))

    replayed = await api.store.rebuild_projections(page_size=1, progress=progress)

    assert replayed == 3 and seen == [(1, 3), (2, 3), (3, 3)]
    ids.append(await late[0])
    rows, _, _ = await _read_models(api)
    assert sorted(str(row[0]) for row in rows) == sorted(ids)  # episode_id first


async def _read_models(api: Api) -> tuple[list, list, list]:
    async with api.store.engine.connect() as conn:
        rows = (await conn.execute(select(episodes).order_by("episode_id"))).all()
        kids = (await conn.execute(select(children).order_by("la_child_id"))).all()
        roles = (
            await conn.execute(select(alerted_roles).order_by("episode_id", "role"))
        ).all()
    return [tuple(r) for r in rows], [tuple(r) for r in kids], [tuple(r) for r in roles]
