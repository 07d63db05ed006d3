#!/usr/bin/env bash
# Lint, format check, strict typing (tests relaxed) and the import contracts
# (pyproject.toml [tool.importlinter]): what the test command runs before pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache --no-logo
