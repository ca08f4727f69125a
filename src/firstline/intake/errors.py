"""Intake errors carry a message fit to show a sender (HTTP 4xx) or a user (CLI)."""


class AlertParseError(ValueError):
    """The payload is not a valid alert of the expected format."""
