"""Run the simulated world alone against an MQTT broker.

    python -m trilink.sim --host 127.0.0.1 --port 1883 [--username sim --password-env SIM_PW]
                          [--speed 60] [--climate hot-humid] [--seed 0] [--prefix demo-] [--no-schedule]

Prints a line whenever a device comes online; Ctrl-C takes every device offline and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from datetime import datetime

from trilink.clock import ScaledClock
from trilink.sim.device import SimDevice
from trilink.sim.thermal import CLIMATES
from trilink.sim.world import World
from trilink.transports.mqtt.settings import MqttSettings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trilink.sim", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="MQTT broker host (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=1883, help="MQTT broker port (default 1883)")
    p.add_argument("--username", help="MQTT username shared by every simulated device")
    p.add_argument("--password-env", metavar="VAR", help="environment variable holding the MQTT password")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    p.add_argument("--climate", choices=sorted(CLIMATES), default="hot-humid", help="outdoor climate")
    p.add_argument("--seed", type=int, default=0, help="seed for weather and sensor noise")
    p.add_argument("--prefix", default="", help="prefix for every did, to run several worlds on one broker")
    p.add_argument("--no-schedule", action="store_true", help="do not run the owner's daily routine")
    p.add_argument("-v", "--verbose", action="store_true", help="log connection details")
    return p


async def _main(args: argparse.Namespace) -> int:
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"error: environment variable {args.password_env} is not set", file=sys.stderr)
            return 2
    settings = MqttSettings(host=args.host, port=args.port, username=args.username, password=password)
    clock = ScaledClock(args.speed)

    def online(device: SimDevice) -> None:
        when = datetime.fromtimestamp(clock.now(), world.tz).strftime("%a %H:%M")
        print(f"[{when}] online  {device.did:<24} {device.name} ({device.model})", flush=True)

    world = World(
        settings,
        clock,
        seed=args.seed,
        climate=args.climate,
        schedule=not args.no_schedule,
        did_prefix=args.prefix,
        on_online=online,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    print(f"simulated world: {len(world.devices)} devices → {settings.describe()}, {args.speed:g}× real time")
    await world.start()
    try:
        await stop.wait()
    finally:
        print("stopping: taking every device offline …", flush=True)
        await world.stop()
    print("stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the world until interrupted."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
