#!/usr/bin/env bash
# Sets up the gateway with its test tools and runs the whole test suite.
# Integration tests talk to Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
exec .venv/bin/python -m pytest -q "$@"
