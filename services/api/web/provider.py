"""The council's OpenID Connect provider, as Lantern uses it: its discovery document
and keys (cached), the Authlib client for the code flow, and the ID token's checks
(joserfc: signature against the provider's keys, issuer, audience, nonce, times).
The routes are in services/api/web/oidc.py."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import authlib.deprecate  # noqa: F401  (first: it adds its own filter on import)
import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.api.web.people import WebRole
from services.api.web.settings import WebSettings

with warnings.catch_warnings():
    # Authlib 1.9.10 would rather have httpx2 (not on PyPI's httpx line Lantern uses);
    # its httpx client works as before.
    warnings.filterwarnings("ignore", "The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

FLOW_PATH = "/sign-in/callback"
CACHE_SECONDS = 3600.0
"""How long the provider's discovery document and keys are kept."""
LEEWAY_SECONDS = 60
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""Asymmetric signatures only: never ``none``, nor HMAC with the client secret."""
SCOPE = "openid email profile"


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in; ``reason`` goes to the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    subject: str
    email: str
    name: str
    groups: tuple[str, ...]


@dataclass
class Provider:
    """The council's provider, as its discovery document describes it (cached)."""

    settings: WebSettings
    _metadata: tuple[float, dict[str, Any]] | None = field(default=None, repr=False)
    _keys: tuple[float, KeySet] | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return (self.settings.oidc_issuer or "").rstrip("/")

    @property
    def client_id(self) -> str:
        return self.settings.oidc_client_id or ""

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.web_public_url}{FLOW_PATH}"

    def client(self) -> AsyncOAuth2Client:
        secret = self.settings.oidc_client_secret
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scope=SCOPE,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    async def metadata(self) -> dict[str, Any]:
        if self._metadata and time.monotonic() - self._metadata[0] < CACHE_SECONDS:
            return self._metadata[1]
        document = await _get_json(f"{self.issuer}/.well-known/openid-configuration")
        if document.get("issuer") != self.issuer:
            raise SignInFailed("the discovery document names another issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise SignInFailed(f"the discovery document has no {name}")
        self._metadata = (time.monotonic(), document)
        return document

    async def keys(self, *, fresh: bool = False) -> KeySet:
        if (
            not fresh
            and self._keys
            and time.monotonic() - self._keys[0] < CACHE_SECONDS
        ):
            return self._keys[1]
        document = await _get_json((await self.metadata())["jwks_uri"])
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise SignInFailed("the provider's keys cannot be read") from exc
        self._keys = (time.monotonic(), keys)
        return keys

    async def id_token_claims(self, id_token: str, nonce: str) -> Claims:
        """The ID token's claims, once its signature, issuer, audience, nonce and
        times are checked. A key not yet seen (the provider rotated them): the keys
        are fetched again, once."""
        try:
            token = jwt.decode(id_token, await self.keys(), algorithms=ALGORITHMS)
        except JoseError:
            try:
                token = jwt.decode(
                    id_token, await self.keys(fresh=True), algorithms=ALGORITHMS
                )
            except (JoseError, ValueError) as exc:
                raise SignInFailed(f"ID token refused: {type(exc).__name__}") from exc
        except ValueError as exc:
            raise SignInFailed("ID token not readable") from exc
        claims = token.claims
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise SignInFailed(f"ID token refused: {exc.error}") from exc
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self.client_id:
            raise SignInFailed("ID token refused: azp is not Lantern")
        return _claims(claims, self.settings.oidc_groups_claim)


def _claims(claims: dict[str, Any], groups_claim: str) -> Claims:
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise SignInFailed("the ID token has no email")
    groups = claims.get(groups_claim, [])
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        raise SignInFailed("the groups claim is not a list")
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        given = " ".join(
            str(claims[part])
            for part in ("given_name", "family_name")
            if isinstance(claims.get(part), str)
        )
        name = given or email
    return Claims(
        str(claims["sub"]), email, name, tuple(g for g in groups if isinstance(g, str))
    )


def roles_of(
    groups: tuple[str, ...], role_groups: Mapping[str, str]
) -> frozenset[WebRole]:
    """The Lantern roles of a person's groups (groups Lantern does not know: none)."""
    return frozenset(WebRole(role_groups[g]) for g in groups if g in role_groups)


async def _get_json(url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed(
            f"the provider did not answer: {type(exc).__name__}"
        ) from exc
    if not isinstance(document, dict):
        raise SignInFailed("the provider's answer is not a JSON object")
    return document


def provider_for(settings: WebSettings) -> Provider | None:
    """The provider, when one is configured."""
    if settings.oidc_issuer is None or settings.oidc_client_id is None:
        return None
    return Provider(settings)
