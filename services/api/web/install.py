"""Plugs the web pages' shared parts into the one app: assets, sign-in, headers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.api.web.clients import router as clients_router
from services.api.web.oidc import router as oidc_router
from services.api.web.pages import install_pages
from services.api.web.security import SecurityHeaders
from services.api.web.signin import router

STATIC = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
    app.include_router(oidc_router)
    app.include_router(clients_router)
    install_pages(app)
