"""Settings are validated at start, with errors that name the setting."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from events.settings import CoreSettings
from services.notifier.settings import NotifierSettings
from services.processes import RunSettings


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LANTERN_DATABASE_URL", raising=False)
    monkeypatch.delenv("LANTERN_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    settings = CoreSettings()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert not settings.uses_kafka


def test_plain_postgres_url_gets_the_async_driver():
    settings = CoreSettings(database_url="postgresql://u:p@db/lantern")
    assert settings.database_url == "postgresql+asyncpg://u:p@db/lantern"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("database_url", "mysql://db/lantern", "must start with"),
        ("kafka_partitions", 0, "greater than or equal to 1"),
        ("log_level", "loud", "Input should be"),
    ],
)
def test_bad_values_are_refused(field: str, value: Any, reason: str):
    with pytest.raises(ValidationError) as caught:
        CoreSettings(**{field: value})
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert reason in error["msg"]


def test_production_refuses_sqlite():
    with pytest.raises(ValidationError, match="production needs PostgreSQL"):
        CoreSettings(environment="production", database_url="sqlite+aiosqlite:///x.db")


def test_production_needs_its_own_link_key(monkeypatch: pytest.MonkeyPatch):
    """Outside production a key kept in the database stands in; in production it
    would sit in every backup beside the data it protects."""
    monkeypatch.delenv("LANTERN_NOTIFIER_LINK_SECRET", raising=False)
    production: dict[str, Any] = {
        "environment": "production",
        "database_url": "postgresql://db/l",
    }
    with pytest.raises(ValidationError, match="LANTERN_NOTIFIER_LINK_SECRET: required"):
        NotifierSettings(**production)
    assert NotifierSettings(**production, notifier_link_secret="k" * 32)
    assert NotifierSettings(environment="test").notifier_link_secret is None


def test_a_lease_outlasts_every_channel_timeout():
    """A lease that ran out mid-send would let a second sender start the attempt."""
    assert NotifierSettings().notifier_lease_s == 90
    slow_mail = {"email": {"timeout_s": 10}}
    with pytest.raises(ValidationError, match="LANTERN_NOTIFIER_LEASE_S: must be"):
        NotifierSettings(notifier_lease_s=10, channels=slow_mail)
    assert NotifierSettings(notifier_lease_s=11, channels=slow_mail)


@pytest.mark.parametrize(
    ("host", "settings", "refused"),
    [
        ("127.0.0.1", {}, False),
        ("::1", {}, False),
        ("localhost", {}, False),
        ("0.0.0.0", {}, True),  # noqa: S104
        ("192.0.2.10", {}, True),
        ("0.0.0.0", {"demo": True}, False),  # noqa: S104
        (
            "0.0.0.0",  # noqa: S104
            {"sources": {"cse": {"base_url": "https://cse.council.example"}}},
            False,
        ),
    ],
)
def test_the_reference_sources_stay_on_loopback_unless_a_demo(
    host: str, settings: dict[str, Any], refused: bool
):
    """`lantern run` with no source configured serves fictional data, and triage
    scores children against it: never beyond loopback unless told it is a demo."""
    if refused:
        with pytest.raises(ValidationError, match="LANTERN_DEMO=true"):
            RunSettings(host=host, **settings)
    else:
        RunSettings(host=host, **settings)
