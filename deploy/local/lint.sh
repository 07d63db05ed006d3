#!/usr/bin/env bash
# Lint, format check and strict typing: what the test command runs before pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy
