"""A reference server for the three source APIs (docs/sources.openapi.yaml) over
reference data, with faults injected per source.

It is the embedded default's sources, the sources the tests run against, and a
working example for a council writing its own adapter. Faults are set at start and
changed live with `PUT /_faults/{source}`; to simulate a refused connection, stop
the server. The fault routes have no authentication, so they exist only on the
server's own process (`lantern sources serve`): what `lantern run` mounts on the
product's port is read-only, or anyone who reached it could make every source
"down" and lower the risk Lantern assesses. It holds whatever data it is given:
keep it fictional.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.api.tracing import NATIVE_TELEMETRY
from services.triage.sources import SourceName
from services.triage.sources.cme import CmeFactsBody
from services.triage.sources.cse import CseFactsBody
from services.triage.sources.http import (
    FactsBody,
    LookupRequest,
    answer_model,
    field_errors,
)
from services.triage.sources.youth_justice import YouthJusticeFactsBody

DEFAULT_DATA = Path(__file__).parent / "data" / "reference.json"
FACTS_MODELS: dict[SourceName, type[FactsBody]] = {
    SourceName.youth_justice: YouthJusticeFactsBody,
    SourceName.cme: CmeFactsBody,
    SourceName.cse: CseFactsBody,
}
CHILD_KEYS = frozenset(LookupRequest.model_fields)


class Malformed(StrEnum):
    none = "none"
    invalid_json = "invalid_json"
    wrong_schema = "wrong_schema"


class Fault(BaseModel):
    """What goes wrong for one source; a PUT replaces it whole (`{}` = healthy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: int = Field(0, ge=0, le=60_000, description="Added to every lookup")
    error_rate: float = Field(0.0, ge=0, le=1, description="Share answered 500")
    down: bool = Field(False, description="Answer 503 to every lookup")
    malformed: Malformed = Malformed.none
    fail_next: int = Field(0, ge=0, description="Answer 500 to the next N lookups")


@dataclass
class Faults:
    """Mutable on purpose: the running server reads and changes it per request."""

    by_source: dict[SourceName, Fault] = field(
        default_factory=lambda: dict.fromkeys(SourceName, Fault())
    )
    requests: Counter[SourceName] = field(default_factory=Counter)

    @classmethod
    def at_start(cls, fault: Fault, *, down: Iterable[SourceName] = ()) -> Faults:
        down = set(down)
        return cls(
            {n: fault.model_copy(update={"down": n in down}) for n in SourceName}
        )

    def state(self, source: SourceName) -> dict[str, Any]:
        return {
            **self.by_source[source].model_dump(),
            "requests": self.requests[source],
        }


@dataclass(frozen=True)
class ReferenceRecord:
    child: LookupRequest
    facts: FactsBody


def _name_key(child: LookupRequest) -> tuple[str, str, str]:
    return (
        child.given_name.strip().casefold(),
        child.family_name.strip().casefold(),
        child.date_of_birth.isoformat(),
    )


@dataclass(frozen=True)
class ReferenceData:
    records: dict[SourceName, list[ReferenceRecord]]

    def find(self, source: SourceName, who: LookupRequest) -> FactsBody | None:
        """By the council's id when both sides have it, else by name and birth date."""
        records = self.records.get(source, [])
        if who.la_child_id:
            for record in records:
                if record.child.la_child_id == who.la_child_id:
                    return record.facts
        key = _name_key(who)
        return next((r.facts for r in records if _name_key(r.child) == key), None)


def load_reference_data(path: Path) -> ReferenceData:
    """A JSON file `{"youth_justice": [...], "cme": [...], "cse": [...]}` or a folder
    of youth_justice.csv, cme.csv, cse.csv; each record is the child keys plus the
    source's fact fields. Raises ValueError naming the file and record."""
    if path.is_dir():
        raw: Any = {
            name.value: _read_csv(path / f"{name}.csv")
            for name in SourceName
            if (path / f"{name}.csv").exists()
        }
    else:
        raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not set(raw) <= set(SourceName):
        raise ValueError(f"{path}: expected an object keyed by {list(SourceName)}")
    return ReferenceData(
        {
            SourceName(name): [
                _record(SourceName(name), row, f"{path}: {name}[{i}]")
                for i, row in enumerate(rows)
            ]
            for name, rows in raw.items()
        }
    )


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return [{k: v for k, v in row.items() if v} for row in csv.DictReader(file)]


def _record(source: SourceName, row: Any, where: str) -> ReferenceRecord:
    model = FACTS_MODELS[source]
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected an object")
    if unknown := set(row) - CHILD_KEYS - set(model.model_fields):
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    try:
        return ReferenceRecord(
            LookupRequest.model_validate({"la_child_id": None, **row}),
            model.model_validate(
                {k: v for k, v in row.items() if k not in CHILD_KEYS}, strict=False
            ),
        )
    except ValidationError as exc:
        raise ValueError(f"{where}: {field_errors(exc)}") from None


def create_reference_app(
    data: ReferenceData, faults: Faults | None = None, *, token: str | None = None
) -> FastAPI:
    """Serves `POST /{source}/v1/lookup`; with a token, lookups need that bearer.
    With ``faults``, also `/_faults` to read and change them live; without, the
    sources are read-only and always healthy."""
    app = FastAPI(
        title="Lantern reference sources",
        summary="Youth Justice, CME and CSE lookups over reference data",
        version="1",
        telemetry=NATIVE_TELEMETRY,  # mounted in `lantern run`: as the API's
    )
    live = Faults() if faults is None else faults  # read-only: no route changes it
    for name in SourceName:
        app.add_api_route(
            f"/{name}/v1/lookup",
            _lookup_endpoint(name, data, live, token),
            methods=["POST"],
            response_model=answer_model(FACTS_MODELS[name]),
            tags=[name.value],
            summary=f"Look a child up in the {name} source",
        )

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    if faults is not None:
        _add_fault_routes(app, faults)
    return app


def _add_fault_routes(app: FastAPI, faults: Faults) -> None:
    @app.get("/_faults", tags=["faults"], summary="Faults and lookups counted so far")
    async def get_faults() -> dict[str, dict[str, Any]]:
        return {name.value: faults.state(name) for name in SourceName}

    @app.put("/_faults/{source}", tags=["faults"], summary="Replace a source's faults")
    async def put_faults(source: SourceName, fault: Fault) -> dict[str, Any]:
        faults.by_source[source] = fault
        return faults.state(source)


Endpoint = Callable[[LookupRequest, str | None], Awaitable[Response]]


def _lookup_endpoint(
    source: SourceName, data: ReferenceData, faults: Faults, token: str | None
) -> Endpoint:
    async def lookup(
        body: LookupRequest, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        faults.requests[source] += 1
        fault = faults.by_source[source]
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if failed := _failure(source, fault, faults):
            return failed
        if token and not _bearer_is(authorization, token):
            return JSONResponse({"detail": "unauthorised"}, status_code=401)
        if fault.malformed is not Malformed.none:
            return _garbage(fault.malformed, body)
        facts = data.find(source, body)
        if facts is None:
            return JSONResponse({"found": False})
        return JSONResponse({"found": True, "facts": facts.model_dump(mode="json")})

    return lookup


def _bearer_is(authorization: str | None, token: str) -> bool:
    expected = f"Bearer {token}".encode()
    return secrets.compare_digest((authorization or "").encode(), expected)


def _failure(source: SourceName, fault: Fault, faults: Faults) -> Response | None:
    if fault.down:
        return JSONResponse({"detail": "down"}, status_code=503)
    if fault.fail_next:
        update = {"fail_next": fault.fail_next - 1}
        faults.by_source[source] = fault.model_copy(update=update)
        return JSONResponse({"detail": "injected failure"}, status_code=500)
    if random.random() < fault.error_rate:  # noqa: S311 - fault injection
        return JSONResponse({"detail": "injected error"}, status_code=500)
    return None


def _garbage(kind: Malformed, child: LookupRequest) -> Response:
    """Garbage that quotes the child, as a broken system might, so tests can show the
    adapter keeps it out of the logs."""
    who = f"{child.given_name} {child.family_name}, {child.date_of_birth}"
    if kind is Malformed.invalid_json:
        body = '{"found": true, "facts": {"note": "' + who
        return Response(body, media_type="application/json")
    return JSONResponse({"found": True, "facts": who})
