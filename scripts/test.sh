#!/usr/bin/env bash
# The whole test suite: set-up, lint, strict typing, then every test (VM boots and Docker
# tests included). This is exactly what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"
ruff check systemkit examples tests benchmarks scripts
ruff format --check systemkit examples tests benchmarks scripts
echo "== mypy --strict"
mypy --strict systemkit examples tests benchmarks scripts
echo "== pytest"
python3 -m pytest -q "$@"
