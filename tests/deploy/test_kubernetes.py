"""The Kubernetes manifests (deploy/kubernetes): every overlay renders with
`kubectl kustomize`, every object is valid against the Kubernetes schemas that
kubernetes-validate bundles (offline), and the rendered objects keep the promises
docs/operations.md#kubernetes makes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.settings import KNOWN, SECRET

KUBERNETES = Path(__file__).parents[2] / "deploy" / "kubernetes"
OVERLAYS = sorted(p.name for p in (KUBERNETES / "overlays").iterdir() if p.is_dir())
# The oldest release still supported upstream when this was written, and the newest
# the pinned kubernetes-validate knows.
VERSIONS = ["1.31.0", kubernetes_validate.latest_version()]
WORKERS = {"triage", "notifier", "returns", "subscriptions", "relay"}
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - a pod's port must be reachable

Object = dict[str, Any]


@pytest.fixture(scope="session")
def kubectl() -> str:
    found = shutil.which(os.environ.get("LANTERN_KUBECTL", "kubectl"))
    if found is None:
        pytest.fail(
            "kubectl (with kustomize v5) is not on the PATH: deploy/local/setup.sh"
            " --dev says where to get it, or set LANTERN_KUBECTL"
        )
    return found


def render(kubectl: str, overlay: str) -> list[Object]:
    done = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [o for o in yaml.safe_load_all(done.stdout) if o]


@pytest.fixture(scope="session", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, kubectl: str) -> tuple[str, list[Object]]:
    return request.param, render(kubectl, request.param)


def of_kind(objects: list[Object], kind: str) -> dict[str, Object]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def containers(workload: Object) -> list[Object]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads(objects: list[Object]) -> list[Object]:
    return [o for o in objects if o["kind"] in ("Deployment", "Job")]


def component(workload: Object) -> str:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return str(labels["app.kubernetes.io/component"])


def test_there_are_overlays_for_staging_and_production():
    assert {"staging", "production"} <= set(OVERLAYS)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas(overlay, version):
    _, objects = overlay
    problems = []
    for o in objects:
        try:
            kubernetes_validate.validate(o, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(
                f"{o['kind']}/{o['metadata']['name']} {path}: {exc.message}"
            )
    assert not problems, "\n".join(problems)


def test_a_deployment_for_each_service_and_a_migration_job(overlay):
    _, objects = overlay
    deployments = of_kind(objects, "Deployment")
    assert {component(d) for d in deployments.values()} == WORKERS | {"intake"}
    for d in deployments.values():
        assert containers(d)[0]["command"][:2] == ["lantern", component(d)]
    [job] = of_kind(objects, "Job").values()
    assert containers(job)[0]["command"] == ["lantern", "db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_the_relay_is_one_copy_replaced_not_rolled(overlay):
    _, objects = overlay
    relay = of_kind(objects, "Deployment")["lantern-relay"]
    assert relay["spec"]["replicas"] == 1
    assert relay["spec"]["strategy"] == {"type": "Recreate"}


def test_every_container_has_requests_a_memory_limit_and_a_locked_down_context(
    overlay,
):
    _, objects = overlay
    for w in workloads(objects):
        pod = w["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, w["metadata"]["name"]
        for c in containers(w):
            where = f"{w['metadata']['name']}/{c['name']}"
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), where
            assert "memory" in c["resources"]["limits"], where
            context = c["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where


def test_intake_is_probed_on_http_and_the_workers_on_their_ops_port(overlay):
    _, objects = overlay
    for d in of_kind(objects, "Deployment").values():
        [c] = containers(d)
        port = "http" if component(d) == "intake" else "ops"
        assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": port}
        assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": port}
        assert port in {p["name"] for p in c["ports"]}
        annotations = d["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        if port == "ops":
            env = {e["name"]: e.get("value") for e in c["env"]}
            assert env["LANTERN_OPS_HOST"] == EVERY_INTERFACE
            assert (
                env["LANTERN_OPS_PORT"] == annotations["prometheus.io/port"] == "9464"
            )


def test_secrets_are_only_referenced_never_written(overlay):
    _, objects = overlay
    assert not of_kind(objects, "Secret"), "a Secret with values is in git"
    for config in of_kind(objects, "ConfigMap").values():
        assert not SECRET & set(config["data"]), config["metadata"]["name"]
    for w in workloads(objects):
        for c in containers(w):
            for e in c.get("env", []):
                if e["name"] in SECRET:
                    assert "value" not in e, f"{w['metadata']['name']}: {e['name']}"
                    assert e["valueFrom"]["secretKeyRef"]["name"] == "lantern-secrets"


def test_every_setting_set_is_one_lantern_reads(overlay):
    _, objects = overlay
    names = set()
    for config in of_kind(objects, "ConfigMap").values():
        names |= set(config["data"])
    for w in workloads(objects):
        for c in containers(w):
            names |= {e["name"] for e in c.get("env", [])}
    lantern = {n for n in names if n.startswith("LANTERN_")}
    assert lantern - KNOWN == set()


def test_the_overlay_sets_the_image_tag_and_the_namespace(overlay):
    name, objects = overlay
    kustomization = yaml.safe_load(
        (KUBERNETES / "overlays" / name / "kustomization.yaml").read_text()
    )
    [image] = kustomization["images"]
    expected = f"{image['newName']}:{image['newTag']}"
    for w in workloads(objects):
        assert {c["image"] for c in containers(w)} == {expected}, w["metadata"]["name"]
    assert {o["metadata"]["namespace"] for o in objects} == {kustomization["namespace"]}


def test_each_service_has_a_disruption_budget_but_the_single_relay(overlay):
    _, objects = overlay
    budgets = of_kind(objects, "PodDisruptionBudget").values()
    covered = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for b in budgets
    }
    assert covered == (WORKERS | {"intake"}) - {"relay"}


def test_the_network_is_denied_by_default_and_opened_by_port(overlay):
    _, objects = overlay
    policies = list(of_kind(objects, "NetworkPolicy").values())
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]
    ingress = {  # (pods, from namespace, port); "*" is every Lantern pod
        (
            p["spec"]["podSelector"]["matchLabels"].get(
                "app.kubernetes.io/component", "*"
            ),
            source["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            port["port"],
        )
        for p in policies
        for rule in p["spec"].get("ingress", [])
        for source in rule["from"]
        for port in rule["ports"]
    }
    assert ingress == {
        ("intake", "ingress-nginx", "http"),
        ("*", "monitoring", "http"),
        ("*", "monitoring", "ops"),
    }
    egress = {
        port["port"]
        for p in policies
        for rule in p["spec"].get("egress", [])
        for port in rule["ports"]
    }
    assert {53, 5432, 9092, 443, 587} <= egress
