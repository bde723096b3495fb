"""`trilink demo`, `trilink run` and `trilink token` as a person runs them: real processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from conftest import SYSTEM_BROKER
from trilink.cli.main import cli

TRILINK = [sys.executable, "-m", "trilink.cli"]


def _read_until(proc: subprocess.Popen[str], pattern: str, timeout: float = 60) -> tuple[str, re.Match[str]]:
    """Read the process's output line by line until ``pattern`` matches (bounded)."""
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen += line
        match = re.search(pattern, seen)
        if match:
            return seen, match
    raise AssertionError(f"{pattern!r} did not appear; output so far:\n{seen}")


def test_demo_runs_shows_token_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*TRILINK, "demo", "--port", "0", "--data-dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        _, match = _read_until(proc, r"API\s+(http://127\.0\.0\.1:\d+)")
        url = match.group(1)
        _, token_match = _read_until(proc, r"owner token\s+(tl_\S+)")
        token = token_match.group(1)
        # the live summary reports the simulated devices coming online
        _read_until(proc, r"(1[0-9])/\1 devices online")
        r = httpx.get(f"{url}/api/devices", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 200 and len(r.json()) >= 16
        assert httpx.get(f"{url}/api/devices", timeout=5).status_code == 401
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, rest
        assert "stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_with_config_against_mosquitto(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        f"store:\n  path: {tmp_path / 'hub.db'}\napi:\n  port: 0\n"
        f"mqtt:\n  host: {SYSTEM_BROKER.host}\n  port: {SYSTEM_BROKER.port}\n"
        f"  client_id: test-{os.getpid()}\n"
    )
    proc = subprocess.run(
        [*TRILINK, "run", "--config", str(cfg), "--duration", "1"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "Owner token (shown once" in proc.stdout and "stopped." in proc.stdout
    again = subprocess.run(
        [*TRILINK, "run", "--config", str(cfg), "--duration", "0.5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "Owner token" not in again.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("api: [unclosed", "not valid YAML at line 1"),
        ("api:\n  port: 99999\n", "api.port"),
        ("mqtt:\n  pasword_env: X\n", "mqtt.pasword_env"),
        ("- a list\n", "top level must be a mapping"),
        (
            "mqtt:\n  username: u\n  password_env: TRILINK_TEST_UNSET_VAR\n",
            "TRILINK_TEST_UNSET_VAR is not set",
        ),
    ],
)
def test_run_refuses_bad_config_clearly(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(text)
    result = CliRunner().invoke(cli, ["run", "--config", str(cfg)])
    assert result.exit_code != 0
    assert message in result.output


def test_run_with_missing_config() -> None:
    result = CliRunner().invoke(cli, ["run", "--config", "/nonexistent/hub.yaml"])
    assert result.exit_code != 0 and "cannot read config" in result.output


def test_token_commands(tmp_path: Path) -> None:
    from trilink.store import SQLiteStore, verify_token

    db = tmp_path / "hub.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["token", "create", "kitchen-tablet", "--store", str(db)])
    assert result.exit_code != 0 and "no hub database" in result.output
    with SQLiteStore(db):
        pass
    result = runner.invoke(cli, ["token", "create", "kitchen-tablet", "--role", "guest", "--store", str(db)])
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip()
    listing = runner.invoke(cli, ["token", "list", "--store", str(db)])
    assert "kitchen-tablet" in listing.output and plaintext not in listing.output
    token_id = listing.output.split()[0]
    with SQLiteStore(db) as store:
        assert verify_token(store, plaintext) is not None
    assert runner.invoke(cli, ["token", "revoke", token_id, "--store", str(db)]).exit_code == 0
    with SQLiteStore(db) as store:
        assert verify_token(store, plaintext) is None
    assert runner.invoke(cli, ["token", "revoke", "999", "--store", str(db)]).exit_code != 0
