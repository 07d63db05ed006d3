"""Signing in with the council's OpenID Connect provider: the authorization code flow
with PKCE, a nonce and a state (Authlib's httpx client), the ID token checked here
(joserfc: its signature against the provider's published keys, its issuer, audience,
nonce and expiry), and the person's groups mapped to Lantern roles.

Between the two legs, the state, the PKCE verifier and the nonce wait in a short-lived
HttpOnly cookie, signed (HMAC) with a key derived from the client secret, so that any
Lantern process can finish a sign-in another began; the URL carries only the standard
``state``. Nobody is signed in on any error. Logs name a person by id only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import structlog
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from services.api.deps import Deps, admit, refuse
from services.api.web.pages import SHARED
from services.api.web.people import PersonError
from services.api.web.provider import (
    FLOW_PATH,
    Claims,
    Provider,
    SignInFailed,
    roles_of,
)
from services.api.web.settings import WebSettings
from services.api.web.signin import signed_in

router = APIRouter(include_in_schema=False)
log = structlog.get_logger()

FLOW_COOKIE = "lantern_oidc"
FLOW_SECONDS = 600
"""How long someone may take at the provider before the sign-in must start again."""


# The flow's cookie: what the callback must find again, signed.


def _flow_key(settings: WebSettings) -> bytes:
    secret = settings.oidc_client_secret
    material = secret.get_secret_value() if secret else ""
    return hashlib.sha256(
        f"lantern-oidc-flow\0{settings.oidc_client_id}\0{material}".encode()
    ).digest()


def _seal(settings: WebSettings, flow: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(flow).encode()).decode().rstrip("=")
    mac = hmac.new(_flow_key(settings), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _unseal(settings: WebSettings, sealed: str | None) -> dict[str, Any] | None:
    if not sealed or "." not in sealed:
        return None
    body, mac = sealed.rsplit(".", 1)
    expected = hmac.new(_flow_key(settings), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    try:
        flow = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not isinstance(flow, dict) or not isinstance(flow.get("expires"), int | float):
        return None
    if flow["expires"] < time.time():
        return None
    return flow


def _provider(request: Request) -> Provider:
    provider: Provider | None = request.app.state.container.web.oidc
    if provider is None:
        raise HTTPException(404)
    return provider


@router.get("/sign-in/oidc")
async def begin(request: Request, deps: Deps) -> Response:
    """Off to the provider, with a new state, PKCE verifier and nonce."""
    provider = _provider(request)
    try:
        metadata = await provider.metadata()
    except SignInFailed as exc:
        return _failed(request, exc.reason)
    verifier, nonce = generate_token(48), generate_token(32)
    async with provider.client() as client:
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
    flow = {
        "state": state,
        "verifier": verifier,
        "nonce": nonce,
        "expires": int(time.time()) + FLOW_SECONDS,
    }
    response = RedirectResponse(url, 303)
    response.set_cookie(
        FLOW_COOKIE, _seal(deps.web.settings, flow), max_age=FLOW_SECONDS,
        path=FLOW_PATH, httponly=True, samesite="lax", secure=deps.web.secure_cookies,
    )  # fmt: skip
    return response


@router.get(FLOW_PATH)
async def callback(request: Request, deps: Deps) -> Response:
    """Back from the provider: the code exchanged, the ID token checked, the person
    found or added with their roles as the provider's groups say today."""
    provider = _provider(request)
    admit(request, deps)  # an address that keeps failing waits (429)
    flow = _unseal(deps.web.settings, request.cookies.get(FLOW_COOKIE))
    query = request.query_params
    if "error" in query:  # an error signs nobody in: shown even without a state
        if query["error"] == "access_denied":
            return _page(
                request, 403, "You did not sign in",
                "Your council's sign-in service did not let Lantern sign you in. "
                "Nothing was changed.",
            )  # fmt: skip
        return _failed(request, f"the provider answered {query['error'][:40]!r}")
    try:
        if flow is None:
            raise SignInFailed("no sign-in under way (cookie missing or bad)")
        if not hmac.compare_digest(
            query.get("state", "").encode(), str(flow["state"]).encode()
        ):
            raise SignInFailed("the state does not match")
        code = query.get("code")
        if not code:
            raise SignInFailed("no code")
        claims = await _exchange(provider, code, str(flow["verifier"]), flow["nonce"])
    except SignInFailed as exc:
        refuse(request, deps, "OpenID Connect callback refused")  # counted
        return _failed(request, exc.reason)

    roles = roles_of(claims.groups, deps.web.settings.oidc_role_groups)
    try:
        person_id = await deps.web.people.upsert_oidc(
            claims.subject, claims.email, claims.name, roles, deps.now()
        )
    except PersonError:
        log.warning("oidc_sign_in_refused", reason="email of another account")
        return _page(
            request, 403, "Your account could not be used",
            "Another Lantern account has your e-mail address. Ask a Lantern manager "
            "to remove it, then sign in again.",
        )  # fmt: skip
    if not roles:
        log.warning("oidc_sign_in_refused", reason="no role")
        return _page(
            request, 403, "Your account has no Lantern role",
            "You signed in, but none of your groups gives you a role in Lantern. "
            "Ask a Lantern manager to add you to the right group.",
        )  # fmt: skip
    if person_id is None:
        log.warning("oidc_sign_in_refused", reason="account disabled")
        return _page(
            request, 403, "Your account is disabled",
            "Your Lantern account has been disabled. Ask a Lantern manager.",
        )  # fmt: skip
    response = await signed_in(request, deps, person_id, how="oidc")
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


async def _exchange(
    provider: Provider, code: str, verifier: str, nonce: object
) -> Claims:
    metadata = await provider.metadata()
    try:
        async with provider.client() as client:
            token = await client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
    except (OAuthError, httpx.HTTPError, ValueError) as exc:
        raise SignInFailed(f"the code was not exchanged: {type(exc).__name__}") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInFailed("no ID token")
    return await provider.id_token_claims(id_token, str(nonce))


def _failed(request: Request, reason: str) -> Response:
    log.warning("oidc_sign_in_failed", reason=reason)
    return _page(
        request, 400, "Sign-in did not work",
        "Lantern could not finish signing you in, and nobody is signed in. Start "
        "again from the sign-in page; if it happens again, tell your Lantern manager.",
    )  # fmt: skip


def _page(request: Request, status: int, title: str, message: str) -> Response:
    response = SHARED.render(
        request, None, "message.html.j2", title=title, message=message,
        link={"href": "/sign-in", "label": "Go to the sign-in page"},
        status_code=status,
    )  # fmt: skip
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response
