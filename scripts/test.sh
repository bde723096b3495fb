#!/usr/bin/env bash
# The whole test suite in one command: installs what it needs, makes sure Mosquitto runs,
# then lint, type checks and tests. Fails loudly on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "trilink needs Python 3.11 or newer (found $("$PY" --version 2>&1))" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
echo "==> installing trilink and its test tools"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'

# Integration tests need the Mosquitto broker on 127.0.0.1:1883 and its binary
# (tests also start private instances of it on free ports).
port_open() { (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; }
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
  echo "==> installing mosquitto"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto mosquitto-clients >/dev/null
fi
export PATH="$PATH:/usr/sbin"
if ! port_open; then
  echo "==> starting mosquitto on 127.0.0.1:1883"
  if [ -f /etc/mosquitto/mosquitto.conf ] && grep -q "listener 1883 127.0.0.1" /etc/mosquitto/mosquitto.conf; then
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
  else
    conf=$(mktemp /tmp/trilink-mosquitto.XXXXXX.conf)
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' > "$conf"
    mosquitto -d -c "$conf"
  fi
  for _ in $(seq 50); do port_open && break; sleep 0.1; done
  port_open || { echo "mosquitto did not start on 127.0.0.1:1883" >&2; exit 1; }
fi

# Dashboard tests drive Debian's Chromium through Playwright (Playwright's own browser
# download is not used: the machine's network reaches only the package registries).
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# PostgreSQL for the store's PostgreSQL tests (they fail, not skip, without it).
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "==> installing postgresql"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "==> starting postgresql"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "postgresql did not start on 127.0.0.1:5432" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres test

echo "==> ruff"
.venv/bin/ruff check src tests bench
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
