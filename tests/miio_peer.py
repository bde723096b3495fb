"""Peers for the miIO tests: python-miio's MIoT simulator, and a small fake device.

**The simulator** is python-miio's ``miiocli devtools miot-simulator``. python-miio is
GPL-licensed, so it is never imported here or in trilink: it is installed into a
virtualenv of its own (``$TRILINK_MIIO_VENV``, default ``<repo>/.venv-miio``, created on
first use) and run as a separate process. What it does, read from its source: it binds
``0.0.0.0:54321`` (fixed), uses the token ``000…0`` (fixed), answers a hello with its
id (from the MD5 of the model name) and stamp, serves ``get_properties``,
``set_properties`` (answer ``0``; a refused value is ``{"error": {"code": -3, …}}``),
``action`` (answer ``["ok"]``) and ``miIO.info`` from a spec file, with random
initial values. Because the port is fixed, one simulator serves a whole test module.

**The fake device** (:class:`FakeMiioDevice`) is built on trilink's own codec and runs
in the test's event loop on a free port: it can be silent, answer hellos only, answer
with another token, or send garbage inside valid packets.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from trilink.transports.miio import packet
from trilink.transports.miio.errors import BadPacket

REPO: Final = Path(__file__).resolve().parents[1]
SPECS: Final = REPO.parent / "shared" / "data" / "miot-specs"
#: an air purifier: 22 readable properties (two batches), writable ranges, an action with input
SIM_SPEC: Final = SPECS / "zhimi.airp.rmb1.json"
SIM_MODEL: Final = "zhimi.airp.rmb1"
#: the simulator's token is fixed in its source
SIM_TOKEN: Final = "0" * 32
SIM_PORT: Final = packet.PORT
#: the version whose simulator these tests were written against
PYTHON_MIIO: Final = "python-miio==0.6.0.dev0"


def miio_venv() -> Path:
    """Where the simulator's virtualenv is (``$TRILINK_MIIO_VENV`` or ``<repo>/.venv-miio``)."""
    return Path(os.environ.get("TRILINK_MIIO_VENV", str(REPO / ".venv-miio")))


def ensure_simulator() -> Path:
    """The simulator's ``miiocli``, installing python-miio into its own venv if missing."""
    venv = miio_venv()
    cli = venv / "bin" / "miiocli"
    if cli.exists():
        return cli
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, "--pre", PYTHON_MIIO], capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not cli.exists():
        raise RuntimeError(f"could not install {PYTHON_MIIO} into {venv}:\n{done.stderr[-2000:]}")
    return cli


def hello_answered(host: str = "127.0.0.1", port: int = SIM_PORT, timeout: float = 0.2) -> bool:
    """Whether something at ``host:port`` answers a miIO hello."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(packet.HELLO, (host, port))
            data = s.recv(1024)
        except OSError:
            return False
    return len(data) == packet.HEADER_SIZE


class MiotSimulator:
    """python-miio's MIoT simulator in its own process, serving ``spec`` on port 54321."""

    def __init__(self, spec: Path = SIM_SPEC, model: str = SIM_MODEL) -> None:
        self.spec = spec
        self.model = model
        self.proc: subprocess.Popen[bytes] | None = None
        fd, name = tempfile.mkstemp(prefix="trilink-miot-sim-", suffix=".log")
        os.close(fd)
        self._log_path = Path(name)

    def start(self, timeout: float = 60.0) -> None:
        """Start the simulator and wait until it answers a hello."""
        if hello_answered():
            raise RuntimeError(
                f"something already answers miIO on 127.0.0.1:{SIM_PORT} (a simulator left over?)"
            )
        cli = ensure_simulator()
        cmd = [str(cli), "devtools", "miot-simulator", "--file", str(self.spec), "--model", self.model]
        with self._log_path.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not hello_answered():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the MIoT simulator did not start:\n{self.log_tail()}")

    def log_tail(self, size: int = 3000) -> str:
        """The end of the simulator's output."""
        return self._log_path.read_bytes()[-size:].decode("utf-8", "replace")

    def stop(self) -> None:
        """Stop the simulator and remove its log."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._log_path.unlink(missing_ok=True)


class FakeMiioDevice(asyncio.DatagramProtocol):
    """A miIO device of a few properties, speaking through trilink's codec.

    Switches: ``silent`` (answer nothing), ``hello_only`` (answer hellos, ignore
    requests), :meth:`answer_with_token` (sign answers with another token), ``garbage``
    (send this plain payload, encrypted, instead of the answer), ``delay`` (answer late).
    Properties it lacks are answered with code -4003, as real devices do.
    """

    def __init__(
        self, values: dict[tuple[int, int], Any], *, token: bytes = bytes(16), device_id: int = 4242
    ):
        self.values = dict(values)
        self.device_id = device_id
        self.cipher = packet.TokenCipher(token)
        self.answer_cipher = self.cipher
        self.silent = False
        self.hello_only = False
        self.garbage: bytes | None = None
        #: seconds to wait before answering a request
        self.delay = 0.0
        self.hellos = 0
        self.requests: list[dict[str, Any]] = []
        self.bad: list[str] = []
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> int:
        """Listen on a free loopback port; returns it."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self.port

    def close(self) -> None:
        """Stop listening."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def answer_with_token(self, token: bytes) -> None:
        """Sign and encrypt answers with ``token`` (as a different device would)."""
        self.answer_cipher = packet.TokenCipher(token)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.silent or self._transport is None:
            return
        if data == packet.HELLO:
            self.hellos += 1
            self._transport.sendto(packet.build_hello_answer(self.device_id, 1000 + self.hellos), addr)
            return
        try:
            request = packet.decode_request(packet.parse_packet(data, self.cipher).payload)
        except BadPacket as exc:
            self.bad.append(exc.reason)
            return
        self.requests.append(request)
        if self.hello_only:
            return
        if self.garbage is not None:
            plain = self.garbage
        else:
            plain = packet.encode_reply(
                request["id"], **self._handle(request["method"], request.get("params"))
            )
        answer = packet.build_packet(self.answer_cipher, self.device_id, 2000, plain)
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, self._send_late, answer, addr)
        else:
            self._transport.sendto(answer, addr)

    def _send_late(self, answer: bytes, addr: Any) -> None:
        if self._transport is not None:
            self._transport.sendto(answer, addr)

    def _handle(self, method: str, params: Any) -> dict[str, Any]:
        if method == "miIO.info":
            return {"result": {"model": "trilink.fake.v1", "fw_ver": "1.0.0", "token": "f" * 32}}
        if method == "get_properties":
            out = []
            for p in params:
                key = (p["siid"], p["piid"])
                if key in self.values:
                    out.append({**p, "code": 0, "value": self.values[key]})
                else:
                    out.append({**p, "code": -4003})
            return {"result": out}
        if method == "set_properties":
            codes = []
            for p in params:
                key = (p["siid"], p["piid"])
                code = 0 if key in self.values else -4003
                if code == 0:
                    self.values[key] = p["value"]
                codes.append({"did": p["did"], "siid": p["siid"], "piid": p["piid"], "code": code})
            return {"result": codes}
        if method == "action":
            return {"result": {"code": 0, "out": [{"piid": 1, "value": 42}]}}
        return {"error": (-32601, "Method not found.")}
