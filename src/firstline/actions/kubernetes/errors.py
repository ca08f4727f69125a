"""Errors of the Kubernetes executor, typed by what the caller should do."""

from __future__ import annotations


class KubernetesActionError(Exception):
    """A request to the API server failed; the message is one line for a person."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retryable(self) -> bool:
        """5xx, 429 (come back later) and transport failures (status 0) may pass on retry."""
        return self.status == 0 or self.status == 429 or self.status >= 500
