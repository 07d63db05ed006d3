#!/usr/bin/env bash
# Re-pin every dependency (with hashes) after a change to pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v uv >/dev/null || python3 -m pip install -q uv
header() { sed -i "1i # $1 Regenerate: deploy/local/lock.sh" "$2"; }
uv pip compile pyproject.toml --generate-hashes -q --no-header -o requirements.lock
header "Runtime dependencies, pinned with hashes." requirements.lock
uv pip compile pyproject.toml --group dev --group bench --generate-hashes -q --no-header \
  -o requirements-dev.lock
header "Runtime + test + benchmark dependencies, pinned with hashes." requirements-dev.lock
