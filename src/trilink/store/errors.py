"""Errors of the store: what is wrong, and with which database file."""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """The store cannot do what was asked; the message names the database file and the problem.

    Raised for a file that is not a SQLite database, a database written by a newer trilink
    schema, a database that belongs to another program, a failed write, or a store used
    while closed.
    """


class UnstorableValue(StoreError):
    """One item of a batch cannot be encoded for storage (e.g. a NaN or a 100-bit integer).

    Raised before anything of the batch is written. ``index`` is the position of the
    offending item in the batch and ``item`` the item itself, so a caller (the recorder)
    can set it aside and write the rest.
    """

    def __init__(self, message: str, index: int, item: Any) -> None:
        super().__init__(message)
        self.index = index
        self.item = item
