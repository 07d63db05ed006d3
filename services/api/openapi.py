"""The OpenAPI document as the API really answers. Errors are the web layer's, not each
route's: authentication and roles (401, 403), the rate limit (429), the body guard
(413, 415), malformed JSON (400) and invalid input (422, ``{"detail": [{"field",
"reason"}]}``, not FastAPI's ``{loc, msg, type}``). So they are written into the
document here, once, from what each operation is (authenticated, taking a body),
rather than repeated on every route; a route declares only its own (404, 409, ...),
and a body of its own for a status is added beside the web layer's. The suite checks
the document against the running API (tests/e2e/test_fuzz_api.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from services.api.audit import ROUTES, Access
from services.api.deps import CORRELATION_PARAMETER
from services.api.errors import MAX_BODY

REF = "#/components/schemas/"


class Problem(BaseModel):
    field: str
    reason: str


class Problems(BaseModel):
    """Every bad field at once."""

    detail: list[Problem]


class Message(BaseModel):
    detail: str


class ConflictDetail(BaseModel):
    reason: str
    fields: list[str]


class Conflict(BaseModel):
    """A request that contradicts what is recorded: why, and the fields concerned."""

    detail: ConflictDetail


MODELS: tuple[type[BaseModel], ...] = (Problems, Message, Conflict)


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


AUTHENTICATED: dict[str, dict[str, Any]] = {
    "401": {
        "description": "No bearer token, or one not valid (unknown, revoked, rotated)",
        "headers": {"WWW-Authenticate": _header("Bearer")},
    },
    "403": {"description": "The API client's role may not call this"},
    "422": {"description": "Invalid input: every bad field, each with the reason"},
    "429": {
        "description": "Over the client's rate limit",
        "headers": {"Retry-After": _header("Seconds to wait", "integer")},
    },
}
SENDING: dict[str, dict[str, Any]] = {
    "413": {"description": f"The body is over {MAX_BODY // 1024} KiB"},
    "415": {"description": "A body that is not application/json"},
}
WITH_BODY: dict[str, dict[str, Any]] = {
    "400": {"description": "The body is not valid JSON"},
    "422": AUTHENTICATED["422"],
}
WITH_PARAMETERS: dict[str, dict[str, Any]] = {"422": AUTHENTICATED["422"]}


def document_the_web_layer(app: FastAPI) -> None:
    """Replace ``app.openapi`` with the document FastAPI builds, then completed."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(build())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema(
        [(model, "serialization") for model in MODELS], ref_template=REF + "{model}"
    )
    schemas |= definitions["$defs"]
    for name, path in document["paths"].items():
        for method, operation in path.items():
            _complete(method, operation)
            access = ROUTES.get(f"{method.upper()} {name}")
            if isinstance(access, Access):  # recorded: docs/data-protection.md
                operation["x-personal-data"] = access.value
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _complete(method: str, operation: dict[str, Any]) -> None:
    """The errors this operation can answer, each with the body it really has."""
    shared: dict[str, dict[str, Any]] = {}
    if "security" in operation:
        # The client dependency reads the header from the request, out of FastAPI's
        # sight; a malformed one is a 422 naming it.
        operation.setdefault("parameters", []).append(CORRELATION_PARAMETER)
        shared |= AUTHENTICATED
    if method in ("post", "put", "patch"):
        shared |= SENDING
    if "requestBody" in operation:
        shared |= WITH_BODY
    if operation.get("parameters"):
        shared |= WITH_PARAMETERS
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "422" in responses:  # FastAPI's own, of a body the API never sends
        responses["422"].pop("content", None)
    for status, response in shared.items():
        own = responses.get(status)
        responses[status] = {**response, **(own or {})}
        if own and own.get("description") != response["description"]:
            theirs = own["description"]
            responses[status]["description"] = (
                f"{response['description']}; or {theirs[:1].lower()}{theirs[1:]}"
            )
    for status, response in responses.items():
        if status[0] in "45":
            _with_body(response, status, shared=status in shared)


def _with_body(response: dict[str, Any], status: str, *, shared: bool) -> None:
    """The web layer's body for the status, beside any of the route's own."""
    ours = {"$ref": REF + ("Problems" if status == "422" else "Message")}
    json = response.setdefault("content", {}).setdefault("application/json", {})
    own = json.get("schema")
    if own is None or own == ours:
        json["schema"] = ours
    elif shared:
        json["schema"] = {"anyOf": [ours, own]}
