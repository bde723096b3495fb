"""Errors of automation definitions: each names the source, the line and the reason."""

from __future__ import annotations


class DefinitionError(ValueError):
    """A definition (automation, scene, zone, blueprint) is invalid.

    ``source`` is a file name or ``"api"``; ``line`` is 1-based (``None`` if unknown);
    ``path`` is where in the document, e.g. ``automations[2].triggers[0].property``.
    """

    def __init__(self, source: str, line: int | None, path: str, reason: str) -> None:
        self.source = source
        self.line = line
        self.path = path
        self.reason = reason
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {path}: {reason}" if path else f"{where}: {reason}")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, as the API returns it."""
        return {
            "code": "invalid-definition",
            "source": self.source,
            "line": self.line,
            "path": self.path,
            "reason": self.reason,
            "message": str(self),
        }
