"""``python -m trilink.cli`` runs the ``trilink`` command."""

from trilink.cli.main import main

main()
