"""The reports service composed from settings: its route and its read model. It has
no workers: its projector runs in every process's appends."""

from __future__ import annotations

from fastapi import APIRouter

from events.store import Projector
from services.reports import pages, routes
from services.reports.projector import ReportsProjector
from services.reports.settings import ReportsSettings


def routers(settings: ReportsSettings | None = None) -> list[APIRouter]:
    """With no settings, the defaults (the demo council, the source's benchmarks)."""
    settings = settings or ReportsSettings.model_construct()
    return [routes.router_for(settings), pages.router_for(settings)]


def projectors() -> list[Projector]:
    return [ReportsProjector()]
