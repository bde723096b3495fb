"""The HTTP REST and WebSocket API of the hub; the hub runtime serves :func:`create_app`."""

from trilink.api.app import create_app
from trilink.api.facade import HubFacade, Principal, Session, SessionsFacade

__all__ = ["HubFacade", "Principal", "Session", "SessionsFacade", "create_app"]
