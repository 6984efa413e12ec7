#!/usr/bin/env bash
# The whole test suite: set-up, lint, strict typing, then every test (VM boots and Docker
# tests included). This is exactly what CI runs. Everything runs from the project's virtual
# environment that scripts/setup.sh creates (.venv, or SYSTEMKIT_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${SYSTEMKIT_VENV:-$PWD/.venv}
export PATH="$VENV/bin:$PATH"
echo "== ruff"
ruff check systemkit examples tests benchmarks scripts
ruff format --check systemkit examples tests benchmarks scripts
echo "== mypy --strict"
mypy --strict systemkit examples tests benchmarks scripts
echo "== pytest"
python -m pytest -q "$@"
