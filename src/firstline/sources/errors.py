"""Errors a backend client raises, typed by what the caller should do about them.

Adapters catch these and turn them into evidence with status error and the message as the
reason; they never reach the graph.
"""

from __future__ import annotations


class SourceError(Exception):
    """Base class. The message is one line a person can act on."""

    retryable = False


class SourceUnavailable(SourceError):
    """Nothing answered (connection refused, DNS failure, TLS handshake failure)."""


class SourceTimeout(SourceError):
    """No answer within the configured timeout."""

    retryable = True


class SourceServerError(SourceError):
    """The backend answered 5xx."""

    retryable = True


class SourceRejected(SourceError):
    """The backend refused the request (4xx): a bad query, missing rights. Do not retry."""


class SourceBadResponse(SourceError):
    """The answer was not what the API documents (malformed JSON, wrong shape)."""
