"""deploy/compose.yaml runs the production shape. Where Docker Compose is installed,
`docker compose config` checks it; everywhere, its structure is checked here:
the services it names exist, each runs a real `lantern` command with settings
Lantern reads, and each long-running one has a healthcheck."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.settings import KNOWN, commands

DEPLOY = Path(__file__).parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SERVICES = {"intake", "triage", "notifier", "returns", "subscriptions", "relay"}
WORKERS = SERVICES - {"intake"}
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - a container's port must be reachable


def services() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return loaded


def lantern(service: dict[str, Any]) -> bool:
    return str(service.get("image", "")).startswith("lantern:")


def compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    found = subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    )
    return [docker, "compose"] if found.returncode == 0 else None


def test_docker_compose_accepts_the_file():
    command = compose()
    if command is None:
        pytest.skip("no `docker compose` here: the structure tests below stand in")
    for profile in ([], ["--profile", "monitoring"]):
        done = subprocess.run(
            [*command, "-f", str(COMPOSE), *profile, "config", "-q"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_every_service_runs_a_lantern_command_that_exists():
    known = commands()
    ran = {}
    for name, service in services().items():
        if lantern(service):
            words = service["command"]
            assert words[0] == "lantern", name
            real = tuple(words[1:2]) in known or tuple(words[1:3]) in known
            assert real, f"{name}: `{' '.join(words)}` is no lantern command"
            ran[name] = words[1]
    assert {n: ran[n] for n in SERVICES} == {n: n for n in SERVICES}
    assert services()["migrate"]["command"] == ["lantern", "db", "upgrade"]


def test_every_service_it_depends_on_exists_and_migrations_come_first():
    every = services()
    for name, service in every.items():
        assert set(service.get("depends_on", {})) <= set(every), name
        if lantern(service) and name != "migrate":
            waits = service["depends_on"]["migrate"]
            assert waits["condition"] == "service_completed_successfully", name


def test_every_lantern_setting_it_sets_is_one_lantern_reads():
    for name, service in services().items():
        env = service.get("environment", {})
        assert isinstance(env, dict), f"{name}: write environment as a mapping"
        unknown = {k for k in env if k.startswith("LANTERN_")} - KNOWN
        assert not unknown, f"{name} sets settings Lantern does not read: {unknown}"


def test_the_workers_serve_their_ops_port_and_prometheus_scrapes_it():
    scraped = {
        target
        for job in yaml.safe_load(
            (DEPLOY / "prometheus" / "prometheus.yml").read_text()
        )["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    for name in WORKERS:
        env = services()[name]["environment"]
        assert env["LANTERN_OPS_HOST"] == EVERY_INTERFACE, name
        assert f"{name}:{env['LANTERN_OPS_PORT']}" in scraped, name
    assert "intake:8000" in scraped


def test_every_long_running_service_has_a_healthcheck():
    for name, service in services().items():
        if name != "migrate":
            assert service["healthcheck"]["test"], name


def test_every_volume_is_declared_and_every_mounted_file_exists():
    declared = set(yaml.safe_load(COMPOSE.read_text())["volumes"])
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), f"{name}: {source}"
            else:
                assert source in declared, f"{name}: {source}"


def test_prometheus_is_optional_and_loads_the_alert_rules():
    prometheus = services()["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]
    assert (
        "./prometheus/rules.yaml:/etc/prometheus/rules.yaml:ro" in prometheus["volumes"]
    )
