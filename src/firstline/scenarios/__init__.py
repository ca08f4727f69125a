"""Scenario bundles: replayable incidents on disk (format documented in docs/scenarios.md)."""
