"""The root of firstline's errors, typed by what the caller should do about them.

- `PermanentError`: the same request will fail the same way; change the input, the
  settings or the target first (HTTP 4xx, CLI exit 2). Subclasses say which 4xx.
- `TemporaryError`: nothing was done; the same request may succeed later. `retry_after`
  says when to try again, if the error knows (HTTP 503, or 429 for `Busy`, with
  Retry-After; workers back off).
- `NeedsPerson`: firstline will not go on by itself; a person must decide or act (an
  approval, a kill switch, a manual step).

Modules raise their own subclasses (a store error, a settings error, an unknown incident),
so callers catch by intent and the HTTP layer maps each kind to a status once
(service/problems.py). A subclass keeps a builtin base (ValueError, LookupError) where
code catches it by that.
"""

from __future__ import annotations


class FirstlineError(Exception):
    """Anything firstline raises on purpose. Its message is one line for a person."""

    status = 500
    """The HTTP status this kind of failure maps to."""


class PermanentError(FirstlineError):
    """Retrying the same request does not help; something must change first."""

    status = 400


class InvalidInput(PermanentError):
    """The request, payload, file or settings are malformed or refer to nothing valid."""

    status = 422


class InvalidValue(InvalidInput, ValueError):
    """One value a person gave (an option, a setting, a field of a file) is malformed; a
    ValueError too, for code that catches that. For the places with no error of their own
    that would otherwise raise a bare ValueError at a caller."""


class NotAuthenticated(PermanentError):
    """The caller cannot be identified (no, wrong or stale credentials). The message is for
    logs: a caller is told only that it is unauthorized."""

    status = 401


class NotAllowed(PermanentError):
    """The caller is known but may not do this."""

    status = 403


class NotFound(PermanentError):
    """The thing asked for does not exist."""

    status = 404


class Conflict(PermanentError):
    """The request contradicts the current state (already decided, already running)."""

    status = 409


class TemporaryError(FirstlineError):
    """Nothing was done; the same request may succeed after `retry_after` seconds (None:
    the error does not know; the caller's own policy applies, e.g. serve.retry_after_seconds)."""

    status = 503

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(TemporaryError):
    """Too much at once (a lock held, a quota used up): retry soon."""

    status = 429


class NeedsPerson(FirstlineError):
    """firstline stops here on purpose: a person must decide or act."""

    status = 409


KINDS: tuple[type[FirstlineError], ...] = (PermanentError, TemporaryError, NeedsPerson)
"""What a caller can do about an error: exactly one of these is a base of each error."""
