"""A webhook receiver for trying Lantern out and for integrators to copy: it checks
each request's signature (docs/channels.md), drops repeats by Idempotency-Key, and
prints the message. `lantern webhooks receive` runs it."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import FastAPI, Request, Response

from services.notifier.channels.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    verify_signature,
)


def create_receiver_app(secret: str, show: Callable[[str], None] = print) -> FastAPI:
    app = FastAPI(title="Lantern webhook receiver", docs_url=None, redoc_url=None)
    seen: set[str] = set()

    @app.post("/{path:path}", status_code=204)
    async def receive(request: Request) -> Response:
        body = await request.body()  # verify the raw bytes, before parsing
        if not verify_signature(secret, request.headers.get(SIGNATURE_HEADER), body):
            return Response(status_code=401)
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if key in seen:
            return Response(status_code=204)  # a resend: already shown
        seen.add(key)
        message = json.loads(body)
        lines = [f"--- {message['kind']} {message['alert_id']}", message["subject"],
                 message["body"]]  # fmt: skip
        if message.get("ack_url"):
            lines.append(f"Acknowledge: {message['ack_url']}")
        show("\n".join(lines) + "\n")
        return Response(status_code=204)

    return app
