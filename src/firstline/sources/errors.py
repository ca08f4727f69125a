"""Errors a backend client raises, typed by what the caller should do about them.

Adapters catch these and turn them into evidence with status error and the message as the
reason; they never reach the graph. Only `firstline capture` (live backends) shows them to
a person. Each is a firstline error of one kind: `TemporaryError` when the backend may
answer later (nothing answered, no answer in time, a 5xx), `PermanentError` when the
request or the backend must change first (a 4xx, an answer not in the documented shape).
`retryable` is narrower: whether an adapter retries at once, within the same run.
"""

from __future__ import annotations

from firstline.errors import FirstlineError, PermanentError, TemporaryError


class SourceError(FirstlineError):
    """Base class. The message is one line a person can act on."""

    retryable = False


class SourceUnavailable(SourceError, TemporaryError):
    """Nothing answered (connection refused, DNS failure, TLS handshake failure)."""


class SourceTimeout(SourceError, TemporaryError):
    """No answer within the configured timeout."""

    retryable = True


class SourceServerError(SourceError, TemporaryError):
    """The backend answered 5xx."""

    retryable = True


class SourceRejected(SourceError, PermanentError):
    """The backend refused the request (4xx): a bad query, missing rights. Do not retry."""


class SourceBadResponse(SourceError, PermanentError):
    """The answer was not what the API documents (malformed JSON, wrong shape)."""
