#!/usr/bin/env bash
# Set up and run Lantern on its embedded default: SQLite (./lantern.db), no Kafka,
# every service in one process on http://127.0.0.1:8000. Arguments go to `lantern run`,
# which takes its port before anything else: a port in use is said, with exit status 2,
# before any migration or worker starts.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/local/setup.sh
exec .venv/bin/lantern run "$@"
