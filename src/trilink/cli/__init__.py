"""The ``trilink`` command line."""
