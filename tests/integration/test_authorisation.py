"""Who may do what: every operation of the app, for every kind of caller, over real
HTTP, on SQLite and PostgreSQL.

The operations are read from the app itself: the OpenAPI document, and the routes
it leaves out (one-click links, Notify's callbacks, the docs). One missing from
MATRIX fails ``test_every_operation_is_in_the_matrix``, so a new route cannot go
unchecked. Each case runs in a world of its own (two forces' episodes, alerts to the
council and to each force's police team, a recipient), so a change one caller is
allowed to make cannot hide what the next caller is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.routing import iter_route_contexts

from events.contracts.alerts import AlertContact, AlertRaised
from events.envelope import NewEvent
from events.store import Append, Commit
from tests.api import Api, a_report_body, serve_api
from tests.integration.test_page_access import is_page

CALLERS = ("anonymous", "kent", "met", "oncall", "cms", "analyst")
"""No token; police of force KENT; police of force MET; council staff on call; an
integrator; an analyst. Each column of the matrix below, in this order."""

Sees = frozenset[str]
"""200, and of the case's ``watch``ed things, exactly these in the answer."""
Outcome = int | Sees
ALERTS = ("council", "kent_mcet", "met_mcet")
NOW = datetime.now(UTC).replace(microsecond=0)
UPDATE = {"received_at": NOW.isoformat(), "information": "Seen at the station"}
FOUND = {"found_at": NOW.isoformat(), "returned_to": "placement",
         "safe_and_well_check": True}  # fmt: skip
CHILD = {"given_name": "Ada", "family_name": "Fictitious",
         "date_of_birth": "2010-03-14", "looked_after": True, "uasc": False,
         "placing_authority": "886", "ola": False}  # fmt: skip
RECIPIENT = {"kind": "duty_team", "name": "Duty team", "email": "duty@council.example"}
SUBSCRIPTION = {
    "url": "http://127.0.0.1:9/hooks/matrix",
    "event_types": ["MissingReported"],
    "secret": "s" * 32,
}
FORGED = "d=delivery&e=4102444800&s=" + "0" * 64


@dataclass(frozen=True)
class Case:
    operation: str
    """As the app names it: method and path template."""
    expect: tuple[Outcome, Outcome, Outcome, Outcome, Outcome, Outcome]
    path: str = ""
    """The request's path, ``{name}`` being the world's thing of that name; the
    operation's own when it has no parameters."""
    body: Any = None
    watch: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.operation} {self.path}".strip()


def sees(*names: str) -> Sees:
    return frozenset(names)


MATRIX = [
    # operation, then what each caller gets:  anonymous  kent  met  oncall  cms  analyst
    Case("POST /v1/missing-reports", (401, 202, 403, 403, 403, 403),
         body=a_report_body("KNT-NEW")),
    Case("GET /v1/episodes", (401, sees("kent"), sees("met"), 403, 403, 403),
         watch=("kent", "met")),
    Case("GET /v1/episodes/{episode_id}", (401, 200, 404, 200, 403, 403),
         path="/v1/episodes/{kent}"),
    # corrections after the fact are the council's
    Case("PATCH /v1/episodes/{episode_id}", (401, 403, 403, 202, 403, 403),
         path="/v1/episodes/{kent}",
         body={"episode_type": "away", "reason": "The carer knew where she was"}),
    Case("POST /v1/episodes/{episode_id}/updates", (401, 202, 404, 403, 403, 403),
         path="/v1/episodes/{kent}/updates", body=UPDATE),
    Case("POST /v1/episodes/{episode_id}/found", (401, 202, 404, 403, 403, 403),
         path="/v1/episodes/{kent}/found", body=FOUND),
    Case("POST /v1/episodes/{episode_id}/withdrawal", (401, 202, 404, 403, 403, 403),
         path="/v1/episodes/{kent}/withdrawal", body={"reason": "reported_in_error"}),
    # staff may reclassify any episode: 200, as kent's call already made it away
    Case("POST /v1/episodes/{episode_id}/reclassification",
         (401, 202, 404, 200, 403, 403),
         path="/v1/episodes/{kent}/reclassification",
         body={"episode_type": "away", "reason": "Carer knows where she is"}),
    Case("PUT /v1/children/{la_child_id}", (401, 403, 403, 403, 200, 403),
         path="/v1/children/C9", body=CHILD),
    # conferences and histories: staff alone
    Case("POST /v1/children/{la_child_id}/family-group-conferences",
         (401, 403, 403, 201, 403, 403),
         path="/v1/children/{child}/family-group-conferences",
         body={"held_on": "2026-01-15"}),
    Case("GET /v1/children/{la_child_id}/history", (401, 403, 403, 200, 403, 403),
         path="/v1/children/{child}/history"),
    # erasure: a manager's alone (tests/integration/test_erasure.py), none of these
    Case("DELETE /v1/children/{la_child_id}/personal-data",
         (401, 403, 403, 403, 403, 403),
         path="/v1/children/{child}/personal-data?reason=request"),
    Case("GET /v1/recipients", (401, 403, 403, 403, sees("matrix-duty"), 403),
         watch=("matrix-duty",)),
    Case("PUT /v1/recipients/{recipient_id}", (401, 403, 403, 403, 201, 403),
         path="/v1/recipients/matrix-new", body={**RECIPIENT, "kind": "out_of_hours"}),
    Case("DELETE /v1/recipients/{recipient_id}", (401, 403, 403, 403, 204, 403),
         path="/v1/recipients/matrix-duty"),
    # alerts: staff the council's, police their own force's police team's
    Case("GET /v1/alerts",
         (401, sees("kent_mcet"), sees("met_mcet"), sees("council"), 403, 403),
         watch=ALERTS),
    Case("POST /v1/alerts/{alert_id}/ack", (401, 404, 404, 200, 403, 403),
         path="/v1/alerts/{council}/ack"),
    Case("POST /v1/alerts/{alert_id}/ack", (401, 200, 404, 404, 403, 403),
         path="/v1/alerts/{kent_mcet}/ack"),
    Case("POST /v1/alerts/{alert_id}/ack", (401, 404, 200, 404, 403, 403),
         path="/v1/alerts/{met_mcet}/ack"),
    Case("GET /v1/alerts/stream", (401, 200, 200, 200, 403, 403)),
    # the link is the credential, the Notify token the callback's: no API token is
    Case("GET /v1/alerts/{alert_id}/ack-link", (403, 403, 403, 403, 403, 403),
         path="/v1/alerts/{council}/ack-link?" + FORGED),
    Case("POST /v1/alerts/{alert_id}/ack-link", (403, 403, 403, 403, 403, 403),
         path="/v1/alerts/{council}/ack-link?" + FORGED),
    Case("POST /v1/callbacks/notify", (401, 401, 401, 401, 401, 401), body={}),
    # return interviews: the council's staff alone (no interview before a return)
    Case("GET /v1/episodes/{episode_id}/return-interview",
         (401, 403, 403, 404, 403, 403), path="/v1/episodes/{kent}/return-interview"),
    Case("PUT /v1/episodes/{episode_id}/return-interview",
         (401, 403, 403, 404, 403, 403), path="/v1/episodes/{kent}/return-interview",
         body={"offered": False}),
    Case("GET /v1/return-interviews", (401, 403, 403, 200, 403, 403)),
    # reports: aggregate figures, for analysts and staff
    Case("GET /v1/reports/panel", (401, 403, 403, 200, 403, 200),
         path="/v1/reports/panel?from=2026-01-01&to=2026-02-01"),
    # webhook subscriptions: integrators alone, each its own
    Case("POST /v1/subscriptions", (401, 403, 403, 403, 201, 403), body=SUBSCRIPTION),
    Case("GET /v1/subscriptions",
         (401, 403, 403, 403, sees("subscription"), 403), watch=("subscription",)),
    Case("GET /v1/subscriptions/{subscription_id}", (401, 403, 403, 403, 200, 403),
         path="/v1/subscriptions/{subscription}"),
    Case("PATCH /v1/subscriptions/{subscription_id}", (401, 403, 403, 403, 200, 403),
         path="/v1/subscriptions/{subscription}", body={"paused": True}),
    Case("DELETE /v1/subscriptions/{subscription_id}",
         (401, 403, 403, 403, 204, 403), path="/v1/subscriptions/{subscription}"),
    Case("POST /v1/subscriptions/{subscription_id}/replay",
         (401, 403, 403, 403, 200, 403),
         path="/v1/subscriptions/{subscription}/replay", body={"from_position": 1}),
    # open to all
    Case("GET /health", (200, 200, 200, 200, 200, 200)),
    Case("GET /ready", (200, 200, 200, 200, 200, 200)),
    Case("GET /metrics", (200, 200, 200, 200, 200, 200)),  # no personal data
    Case("GET /openapi.json", (200, 200, 200, 200, 200, 200)),
    Case("GET /asyncapi.json", (200, 200, 200, 200, 200, 200)),
    Case("GET /docs", (200, 200, 200, 200, 200, 200)),
    Case("GET /docs/oauth2-redirect", (200, 200, 200, 200, 200, 200)),
]  # fmt: skip


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve_api(database_url) as api:
        yield api


async def test_every_operation_is_in_the_matrix(api: Api):
    document = (await api.http.get("/openapi.json")).json()
    listed = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }
    unlisted = {
        f"{method} {route.path}"
        for route in iter_route_contexts(api.app.routes)  # routers included too
        if not getattr(route, "include_in_schema", True)
        and not is_page(route.path)  # test_page_access.py
        for method in route.methods or ()
        if method != "HEAD"  # answered as GET
    }
    assert listed | unlisted == {case.operation for case in MATRIX}


@pytest.mark.parametrize("case", MATRIX, ids=str)
async def test_who_may(api: Api, case: Case):
    world = await build_world(api)
    path = (case.path or case.operation.split(" ", 1)[1]).format(**world)
    method = case.operation.split(" ", 1)[0]
    wrong = []
    for caller, expected in zip(CALLERS, case.expect, strict=True):
        headers = api.auth(caller) if caller != "anonymous" else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if case.body is not None:
            kwargs["json"] = case.body
        async with api.http.stream(method, path, **kwargs) as response:
            got: Outcome = response.status_code
            if isinstance(expected, frozenset) and got == 200:
                text = (await response.aread()).decode()
                got = sees(*(n for n in case.watch if world[n] in text))
        if got != expected:
            wrong.append(f"{caller}: expected {expected}, got {got}")
    assert not wrong, wrong


async def build_world(api: Api) -> dict[str, str]:
    """Two forces' episodes, three alerts on them, a recipient, a child: their ids
    by name."""
    world = {
        "kent": await report(api, "kent", a_report_body("KNT-M1")),
        "met": await report(api, "met", a_report_body("MET-M1", police_force="MET")),
    }
    for name, episode, role in (
        ("council", "kent", "social_worker"),
        ("kent_mcet", "kent", "mcet"),
        ("met_mcet", "met", "mcet"),
    ):
        world[name] = str(await raise_alert(api, UUID(world[episode]), role))
    put = await api.http.put(
        "/v1/recipients/matrix-duty", json=RECIPIENT, headers=api.auth("cms")
    )
    assert put.status_code == 201, put.text
    world["matrix-duty"] = "matrix-duty"
    child = await api.http.put("/v1/children/C1", json=CHILD, headers=api.auth("cms"))
    assert child.status_code == 200, child.text
    world["child"] = "C1"
    made = await api.http.post(
        "/v1/subscriptions", json=SUBSCRIPTION, headers=api.auth("cms")
    )
    assert made.status_code == 201, made.text
    world["subscription"] = made.json()["subscription_id"]
    return world


async def report(api: Api, caller: str, body: dict[str, Any]) -> str:
    response = await api.post("/v1/missing-reports", body, client=caller)
    assert response.status_code == 202, response.text
    return str(response.json()["episode_id"])


async def raise_alert(api: Api, episode_id: UUID, role: str) -> UUID:
    """As the notifier raises one (it is not running here)."""
    alert_id = uuid4()
    raised = AlertRaised(
        alert_id=alert_id, episode_id=episode_id, role=role, scope="full",
        level="high", contact=AlertContact(recipient_id=f"{role}-1",
                                           email="someone@council.example"),
        channels=["email"], escalate_at=NOW + timedelta(minutes=15), raised_at=NOW,
    )  # fmt: skip
    append = Append(f"alert-{alert_id}", [NewEvent(event=raised)])
    await api.store.commit(Commit([append]))
    return alert_id
