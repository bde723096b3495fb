"""Entry point of the ``trilink`` command: the hub commands and the API client commands."""

from __future__ import annotations

import click

from trilink import __version__
from trilink.cli import automation, client, copilot, diagnose, discover, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trilink")
def cli() -> None:
    """trilink — one live model of your phone, car and home."""


serve.register(cli)
client.register(cli)
automation.register(cli)
copilot.register(cli)
diagnose.register(cli)
discover.register(cli)


def main() -> None:
    """Run the ``trilink`` command."""
    cli()
