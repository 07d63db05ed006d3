"""No input yields a 5xx: schemathesis generates requests from the OpenAPI document
and sends them, with a valid police token, to a running `lantern run`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from tests.e2e.processes import free_port, lantern, terminate, until_healthy


@pytest.fixture(scope="module")
def running_lantern(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "lantern.db"
    env = {"LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    created = runner.invoke(
        app,
        ["clients", "create", "--name", "kent", "--role", "police", "--force", "KENT"],
        env=env,
    )
    token = created.output.strip().splitlines()[-1]
    port = free_port()
    process = lantern(
        "run", "--port", str(port), env={**env, "LANTERN_ENVIRONMENT": "test"}
    )
    base = f"http://127.0.0.1:{port}"
    asyncio.run(until_healthy(base))
    yield base, token
    assert terminate(process) == 0


def test_no_input_yields_a_server_error(
    running_lantern: tuple[str, str], tmp_path: Path
):
    base, token = running_lantern
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "--seed",
            "20261126",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:]
