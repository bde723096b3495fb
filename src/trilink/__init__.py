"""trilink: a local-first hub that joins a person's phone, car and home into one live model."""

__version__ = "0.1.0"
