"""Notifiers: where escalations, approval requests and outcomes are sent."""
