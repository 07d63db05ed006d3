"""The ID token's checks (services/api/web/provider.py), each one broken in turn:
tokens signed here with keys made here, the provider's keys and metadata set as if
fetched (the whole flow against a real provider: tests/integration/test_web_oidc.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from services.api.web.people import WebRole
from services.api.web.provider import Provider, SignInFailed, roles_of
from services.api.web.settings import WebSettings

ISSUER = "https://idp.council.test"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


def a_provider() -> Provider:
    settings = WebSettings(oidc_issuer=ISSUER, oidc_client_id="lantern")
    provider = Provider(settings)
    now = time.monotonic()
    provider._metadata = (now, {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})
    provider._keys = (now, KeySet([KEY]))
    return provider


def a_token(key: RSAKey = KEY, alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "lantern",
        "sub": "s-1",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "email": "a@council.test",
        "name": "A Person",
        "groups": ["lantern-staff"],
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": "k1"}, claims, key)


async def test_a_good_token_gives_its_claims():
    claims = await a_provider().id_token_claims(a_token(), "n-1")
    assert (claims.subject, claims.email, claims.name, claims.groups) == (
        "s-1",
        "a@council.test",
        "A Person",
        ("lantern-staff",),
    )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: a_token(iss="https://elsewhere.test"), id="issuer"),
        pytest.param(lambda: a_token(aud="another-app"), id="audience"),
        pytest.param(lambda: a_token(aud=["lantern", "other"]), id="azp-missing"),
        pytest.param(lambda: a_token(nonce="n-2"), id="nonce"),
        pytest.param(lambda: a_token(nonce=None), id="no-nonce"),
        pytest.param(lambda: a_token(exp=int(time.time()) - 120), id="expired"),
        pytest.param(lambda: a_token(sub=None), id="no-subject"),
        pytest.param(lambda: a_token(email=None), id="no-email"),
        pytest.param(lambda: a_token(key=OTHER_KEY), id="signature"),
    ],
)
async def test_a_token_failing_a_check_is_refused(token, monkeypatch):
    provider = a_provider()

    async def same_keys(*, fresh: bool = False) -> KeySet:
        return KeySet([KEY])  # the provider's keys, fetched again: still not OTHER

    monkeypatch.setattr(provider, "keys", same_keys)
    with pytest.raises(SignInFailed):
        await provider.id_token_claims(token(), "n-1")


async def test_an_unsigned_or_hmac_token_is_refused():
    from joserfc.jwk import OctKey

    secret = OctKey.import_key("the-client-secret-the-client-secret")
    forged = jwt.encode({"alg": "HS256"}, {"iss": ISSUER, "aud": "lantern"}, secret)
    with pytest.raises(SignInFailed):
        await a_provider().id_token_claims(forged, "n-1")


async def test_several_audiences_need_lantern_as_the_authorised_party():
    token = a_token(aud=["lantern", "other"], azp="lantern")
    claims = await a_provider().id_token_claims(token, "n-1")
    assert claims.subject == "s-1"


def test_groups_map_to_roles_and_unknown_groups_to_none():
    mapping = {"duty": "staff", "leads": "manager", "insight": "analyst"}
    assert roles_of(("duty", "finance"), mapping) == {WebRole.staff}
    assert roles_of(("leads", "insight"), mapping) == {
        WebRole.manager,
        WebRole.analyst,
    }
    assert roles_of(("finance",), mapping) == frozenset()
