"""The DfE SSDA903 rules, run by the ``csc-validator-be-903`` package in an
environment of its own: it pins pandas<2 and numpy<1.25, which the product's
environment cannot hold. The environment is made on first use under a cache
folder, from the hashed pins of ``validator/requirements.txt``, one per set of
pins; ``validator/runner.py`` runs in it and answers JSON."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent / "validator"
REQUIREMENTS = HERE / "requirements.txt"
RUNNER = HERE / "runner.py"
TABLES = ("header.csv", "episodes.csv", "missing.csv")


class ValidatorUnavailableError(Exception):
    """The validator's environment could not be made, or the validator failed."""


@dataclass(frozen=True)
class RuleError:
    rule: str
    message: str
    file: str
    row: int  # the data row, from 1 (the line after the header is row 1)
    child: str


@dataclass(frozen=True)
class Validation:
    errors: list[RuleError]
    not_run: list[str]  # rules the validator could not run on these tables


def default_cache() -> Path:
    return Path.home() / ".cache" / "lantern"


def environment(cache: Path) -> Path:
    """The validator environment's Python, made first if need be."""
    pins = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    home = cache / f"validator-903-{pins}"
    python = home / "bin" / "python"
    if python.exists():
        return python
    cache.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="validator-903-", dir=cache))
    try:
        _install(building)
        building.rename(home)  # whole or not at all; a racing twin's wins
    except OSError:
        if not python.exists():
            raise
    except subprocess.CalledProcessError as exc:
        raise ValidatorUnavailableError(
            f"could not make the validator's environment: {exc.stderr.strip()}"
        ) from exc
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return python


def _install(target: Path) -> None:
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    python = str(target / "bin" / "python")
    if uv:
        steps = [
            [uv, "venv", "-q", "--allow-existing", "--python", sys.executable,
             str(target)],
            [uv, "pip", "sync", "-q", "--python", python, "--require-hashes",
             str(REQUIREMENTS)],
        ]  # fmt: skip
    else:
        steps = [
            [sys.executable, "-m", "venv", str(target)],
            [python, "-m", "pip", "install", "-q", "--require-hashes", "--no-deps",
             "-r", str(REQUIREMENTS)],
        ]  # fmt: skip
    for step in steps:
        subprocess.run(step, check=True, capture_output=True, text=True)  # noqa: S603


def validate_folder(folder: Path, *, year: int, cache: Path) -> Validation:
    python = environment(cache)
    done = subprocess.run(  # noqa: S603
        [str(python), str(RUNNER), str(folder), str(year)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValidatorUnavailableError(f"the validator failed: {last}")
    answer = json.loads(done.stdout)
    errors = [
        RuleError(e["rule"], e["message"], e["file"], e["row"], e["child"])
        for e in answer["errors"]
    ]
    errors.sort(key=lambda e: (e.file, e.row, e.rule))
    return Validation(errors, answer["not_run"])
