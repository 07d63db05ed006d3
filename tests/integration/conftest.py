"""Fixtures of the integration tests of the returns service beside the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from events.subscriptions import RetryPolicy
from events.subscriptions.store import StoreSubscription
from services.returns.bootstrap import bootstrap
from services.returns.settings import ReturnsSettings
from tests.api import serve_api
from tests.integration.test_returns import Clock, Rig
from tests.oidc_provider import oidc_provider  # noqa: F401  (offered to the tests)


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[Rig]:
    """The API, with the returns service's subscription running beside it."""
    async with serve_api(database_url) as api:
        clock = Clock()
        service = bootstrap(
            ReturnsSettings(),
            api.store,
            now=clock,
            subscription=lambda s: StoreSubscription(
                api.store, s, retry=RetryPolicy(attempts=2)
            ),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.subscription.run(stop))
        try:
            yield Rig(api, service, clock)
        finally:
            stop.set()
            await task
