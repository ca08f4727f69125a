"""Delivery of queued notifications: the outbox writer the graph uses, and the worker that
sends rows with retries, backoff and the vendors' dedup keys."""
