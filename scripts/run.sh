#!/usr/bin/env bash
# Sets up the gateway and starts it on the embedded default (SQLite, in-process jobs,
# local registry) with the demo tenant, the sample registry and sample documents loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/gateway demo "$@"
