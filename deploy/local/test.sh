#!/usr/bin/env bash
# Set up and run the whole test suite against a real PostgreSQL and Apache Kafka,
# both started here (deploy/local/postgres.sh, deploy/local/kafka.sh).
# Arguments go to pytest, e.g. `deploy/local/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/local/setup.sh --dev
export LANTERN_TEST_DATABASE_URL=${LANTERN_TEST_DATABASE_URL:-$(deploy/local/postgres.sh)}
export LANTERN_TEST_KAFKA=${LANTERN_TEST_KAFKA:-$(deploy/local/kafka.sh start)}
exec .venv/bin/pytest "$@"
