"""Alertmanager (API v2): related firing alerts, and whether an alert still fires."""
