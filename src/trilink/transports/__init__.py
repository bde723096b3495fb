"""Transports: each speaks one protocol and turns it into kernel reports and commands."""
