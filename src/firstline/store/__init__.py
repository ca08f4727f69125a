"""Durable state: incidents, their timeline, the action ledger, approvals, checkpoints."""
