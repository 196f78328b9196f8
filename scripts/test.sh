#!/usr/bin/env bash
# Run every check against real parts: lint, then pytest with a real Elasticsearch node,
# which this script starts first and stops afterwards. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

export ES_PORT=${ES_PORT:-9200}
export ELASTICSEARCH_URL="http://127.0.0.1:${ES_PORT}"
export YUQING_REQUIRE_ES=1  # Elasticsearch tests fail, never skip, without a node

.venv/bin/ruff check .
.venv/bin/ruff format --check .

bash scripts/elasticsearch.sh start
trap 'bash scripts/elasticsearch.sh stop' EXIT
.venv/bin/python -m pytest -ra "$@"
