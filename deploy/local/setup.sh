#!/usr/bin/env bash
# Create .venv with the locked dependencies and Lantern itself (editable).
# Usage: setup.sh [--dev]   (--dev adds the test and benchmark tools)
set -euo pipefail
cd "$(dirname "$0")/../.."
lock=requirements.lock
[ "${1:-}" = "--dev" ] && lock=requirements-dev.lock
# WeasyPrint (the panel report's PDF) loads Pango; the tests read PDFs with poppler.
if ! ldconfig -p | grep -q libpangoft2-1.0 || ! command -v pdftotext >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 \
        poppler-utils; } >&2
  else
    echo "setup.sh: install Pango and poppler-utils for the report's PDF" >&2
  fi
fi
# The browser tests (tests/browser) drive Debian's chromium, at $LANTERN_CHROMIUM
# (default /usr/bin/chromium): Playwright downloads no browser of its own.
chromium=${LANTERN_CHROMIUM:-/usr/bin/chromium}
if [ "${1:-}" = "--dev" ] && [ ! -x "$chromium" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q chromium; } >&2
  else
    echo "setup.sh: install chromium (or set LANTERN_CHROMIUM) for tests/browser" >&2
  fi
fi
# The alert rules (deploy/prometheus) are checked by promtool, from Debian's
# prometheus package (its server is not started: only promtool is used).
if [ "${1:-}" = "--dev" ] && ! command -v promtool >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q &&
      apt-get install -y -q --no-install-recommends prometheus; } >&2
  else
    echo "setup.sh: install promtool (Debian's prometheus package) for tests/deploy" >&2
  fi
fi
# The AsyncAPI document is validated by the AsyncAPI initiative's own parser, on
# node (tests/asyncapi, pinned by its package-lock.json): installed again only when
# the lock file changes.
checker=tests/asyncapi
if [ "${1:-}" = "--dev" ] && { [ ! -d $checker/node_modules/@asyncapi/parser ] ||
  [ $checker/package-lock.json -nt $checker/node_modules/.package-lock.json ]; }; then
  if command -v npm >/dev/null; then
    npm ci --prefix $checker --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  else
    echo "setup.sh: install Node.js 20+ and npm for tests/asyncapi" >&2
  fi
fi
command -v uv >/dev/null || python3 -m pip install -q --root-user-action=ignore uv
[ -x .venv/bin/python ] || uv venv -q --python 3.11 .venv
# Compiled to bytecode here, once: with PYTHONDONTWRITEBYTECODE set (as on CI) Python
# never writes it, and every `lantern` process would compile its imports again at
# start: 2.6 times the CPU (1.4 s against 3.8 s to import the processes).
uv pip sync -q --python .venv/bin/python --require-hashes --compile-bytecode "$lock"
uv pip install -q --python .venv/bin/python --no-deps -e .
.venv/bin/python -m compileall -q -j 0 events services migrations tests bench
# The Kubernetes overlays (deploy/kubernetes) are rendered by `kubectl kustomize`
# (kustomize v5) in tests/deploy. Debian does not package kubectl: install it from
# https://kubernetes.io/docs/tasks/tools/ (or set LANTERN_KUBECTL to its path).
if [ "${1:-}" = "--dev" ] && ! command -v "${LANTERN_KUBECTL:-kubectl}" >/dev/null; then
  echo "setup.sh: kubectl not found: tests/deploy need it (kubectl with kustomize v5;" \
    "https://kubernetes.io/docs/tasks/tools/, or set LANTERN_KUBECTL)" >&2
  exit 1
fi
