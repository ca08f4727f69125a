"""Anomaly detection on metric series. Pure functions over points; no I/O."""
