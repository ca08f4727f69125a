"""Loki: a typed HTTP API client, LogQL selectors, and the adapter that turns lines into
evidence."""
