"""Prometheus: a typed HTTP API client and the adapter that turns answers into evidence."""
