"""firstline: a self-hosted incident-response agent."""

__version__ = "0.1.0"
