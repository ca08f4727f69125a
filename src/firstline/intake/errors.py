"""Intake errors carry a message fit to show a sender (HTTP 4xx) or a user (CLI)."""

from firstline.errors import InvalidInput


class AlertParseError(InvalidInput, ValueError):
    """The payload is not a valid alert of the expected format (HTTP 422)."""
