#!/usr/bin/env bash
# Create .venv with the locked dependencies and Lantern itself (editable).
# Usage: setup.sh [--dev]   (--dev adds the test and benchmark tools)
set -euo pipefail
cd "$(dirname "$0")/../.."
lock=requirements.lock
[ "${1:-}" = "--dev" ] && lock=requirements-dev.lock
command -v uv >/dev/null || python3 -m pip install -q --root-user-action=ignore uv
[ -x .venv/bin/python ] || uv venv -q --python 3.11 .venv
uv pip sync -q --python .venv/bin/python --require-hashes "$lock"
uv pip install -q --python .venv/bin/python --no-deps -e .
