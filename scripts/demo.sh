#!/usr/bin/env bash
# Install trilink into .venv (first run only) and start the demo: a hub with an embedded
# broker and a simulated home, car and phone. Extra arguments go to `trilink demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "trilink needs Python 3.11 or newer (found $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/trilink ]; then
  echo "==> installing trilink into .venv (once)"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
fi
exec .venv/bin/trilink demo "$@"
