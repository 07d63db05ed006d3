"""The AsyncAPI document checked by the AsyncAPI initiative's own parser
(``@asyncapi/parser`` on node, pinned in tests/asyncapi/package-lock.json), and
served at ``/asyncapi.json``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from events.asyncapi import contract_types, published_document
from tests.api import serve_api

CHECKER = Path(__file__).parents[1] / "asyncapi"


@pytest.fixture(scope="session")
def node() -> str:
    """Node, with the parser installed once (``npm ci``; setup.sh --dev does it too)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("tests/asyncapi needs Node.js 20+ and npm on the PATH")
    if not (CHECKER / "node_modules" / "@asyncapi" / "parser").is_dir():
        subprocess.run(
            [
                npm,
                "ci",
                "--prefix",
                str(CHECKER),
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
            ],
            check=True,
            timeout=600,
        )
    return node


def parse(node: str, document: dict[str, Any]) -> tuple[int, list[str]]:
    done = subprocess.run(
        [node, str(CHECKER / "validate.mjs")],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


def test_the_document_is_valid_asyncapi_with_every_type_and_version(node: str):
    code, lines = parse(node, published_document("lantern."))
    assert code == 0, "\n".join(lines)
    assert not [line for line in lines if line.startswith("error")]
    parsed = {line.split("\t")[1] for line in lines if line.startswith("message\t")}
    assert parsed == {
        f"{name}.v{version}"
        for name, cls in contract_types().items()
        for version in range(1, cls.schema_version + 1)
    }


def test_the_parser_catches_a_broken_reference(node: str):
    """The check is not vacuous: a schema pointing nowhere fails it."""
    document = json.loads(
        json.dumps(published_document("lantern.")).replace(
            "#/components/schemas/MissingReported.v1.Child", "#/components/schemas/Nope"
        )
    )
    code, lines = parse(node, document)
    assert code == 1
    assert any(
        line.startswith("error\tinvalid-ref") and "MissingReported.v1" in line
        for line in lines
    ), "\n".join(lines)


async def test_served_at_asyncapi_json_without_a_token(sqlite_database: str):
    async with serve_api(sqlite_database) as api:
        answer = await api.http.get("/asyncapi.json")
    assert answer.status_code == 200
    assert answer.json() == published_document("lantern.")
