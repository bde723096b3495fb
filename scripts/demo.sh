#!/usr/bin/env bash
# Install trilink into .venv (when needed) and start the demo: a hub with an embedded
# broker and a simulated home, car and phone. Extra arguments go to `trilink demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "trilink needs Python 3.11 or newer (found $("$PY" --version 2>&1))" >&2
  exit 1
fi
# (re)install when there is no install yet or pyproject.toml changed since the last one
stamp=.venv/.trilink-installed
if [ ! -x .venv/bin/trilink ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing trilink into .venv"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
  touch "$stamp"
fi
exec .venv/bin/trilink demo "$@"
