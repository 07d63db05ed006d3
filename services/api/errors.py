"""Error bodies: every rejection names the field and the reason, and changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024
MALFORMED = {"detail": "malformed JSON body"}
_PLACES = ("body", "query", "path", "header", "cookie")


class Rejected(Exception):
    def __init__(self, status: int, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__(status, problems)
        self.status = status
        self.problems = problems


def _field(loc: Sequence[Any]) -> str:
    """``child.given_name``, ``limit``, ``Idempotency-Key``: the place in the body,
    or the parameter's name."""
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in _PLACES else []
    return ".".join(parts) or str(loc[0] if loc else "body")


def problems_body(problems: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {"detail": [{"field": f, "reason": r} for f, r in problems]}


def _unparsable(exc: StarletteHTTPException) -> bool:
    """FastAPI turns a syntax error in a JSON body into a validation error, but any
    other failure of the parser (invalid UTF-8, nesting too deep, an integer over
    Python's 4,300 digits) into a 400 of its own, raised from that failure."""
    return exc.status_code == 400 and isinstance(
        exc.__cause__, ValueError | RecursionError
    )


def install_error_handlers(app: FastAPI) -> None:
    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        errors = cast(RequestValidationError, exc).errors()
        if any(e["type"] == "json_invalid" for e in errors):
            return JSONResponse(MALFORMED, status_code=400)
        problems = [(_field(e["loc"]), e["msg"]) for e in errors]
        return JSONResponse(problems_body(problems), status_code=422)

    async def http_error(request: Request, exc: Exception) -> Response:
        error = cast(StarletteHTTPException, exc)
        if _unparsable(error):
            return JSONResponse(MALFORMED, status_code=400)
        if error.status_code == 405:
            error.headers = {**(error.headers or {}), "Allow": _allowed(request)}
        return await http_exception_handler(request, error)

    async def rejected(_: Request, exc: Exception) -> JSONResponse:
        rejection = cast(Rejected, exc)
        return JSONResponse(
            problems_body(rejection.problems), status_code=rejection.status
        )

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Rejected, rejected)


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed(request: Request) -> str:
    """Every method of the path, for a 405's ``Allow``: Starlette lists only those
    of the first route that matched the path (PUT, not DELETE, for a recipient).
    Each method is asked of the router as a request would be."""
    return ", ".join(
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    )


JSON = b"application/json"
FORM = b"application/x-www-form-urlencoded"


class BodyGuard:
    """415 for a body that is not JSON, or, outside the API (/v1/), a form (the
    staff's pages), 413 for one over 64 KiB. A body sent in
    chunks, with no Content-Length, is counted as it streams; one with a length is
    read only to that length by the HTTP parser, so the header is checked instead.
    A request with no body at all (an acknowledgement, a browser's empty form)
    needs no type."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        length = headers.get(b"content-length")
        chunked = b"transfer-encoding" in headers
        api = scope["path"].startswith("/v1/")
        accepted = (JSON,) if api else (JSON, FORM)
        if media not in accepted and length in (None, b"0") and not chunked:
            await self.app(scope, receive, send)  # no body: an acknowledgement
            return
        if media not in accepted:
            kinds = " or ".join(kind.decode() for kind in accepted)
            await _reply(send, 415, f"Content-Type must be {kinds}")
            return
        if chunked or length is None:
            await self._counted(scope, receive, send)
        elif not length.isdigit() or int(length) > self.max_bytes:
            await _reply(send, 413, f"the body is over {self.max_bytes} bytes")
        else:
            await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:  # FastAPI passes an HTTPException on as is
                raise HTTPException(413, f"the body is over {self.max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)


async def _reply(send: Send, status: int, detail: str) -> None:
    response = JSONResponse({"detail": detail}, status_code=status)
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
