#!/usr/bin/env bash
# Format and auto-fix the code base.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/ruff format --quiet .
.venv/bin/ruff check --fix --quiet .
