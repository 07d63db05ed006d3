#!/usr/bin/env bash
# Set up and run the whole test suite against a real PostgreSQL and Apache Kafka,
# both started here (deploy/local/postgres.sh, deploy/local/kafka.sh).
# With no arguments it lints, then runs the suite on both cores (pytest-xdist), then
# the tests marked `alone` (they restart the shared broker) by themselves.
# Arguments go to pytest instead, e.g. `deploy/local/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/local/setup.sh --dev
# Plain assignments, so that a failing script stops here (`export X=$(...)` would not).
LANTERN_TEST_DATABASE_URL=${LANTERN_TEST_DATABASE_URL:-$(deploy/local/postgres.sh)}
LANTERN_TEST_KAFKA=${LANTERN_TEST_KAFKA:-$(deploy/local/kafka.sh start)}
export LANTERN_TEST_DATABASE_URL LANTERN_TEST_KAFKA
[ $# -eq 0 ] || exec .venv/bin/pytest "$@"
deploy/local/lint.sh
.venv/bin/pytest --numprocesses "${LANTERN_TEST_WORKERS:-2}" --dist worksteal -m "not alone"
exec .venv/bin/pytest -m alone
