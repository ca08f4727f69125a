"""One mapping from firstline's errors to HTTP answers, for every route (problems.py)."""

from __future__ import annotations

import json

from firstline.errors import Busy, Conflict, FirstlineError, NeedsPerson, TemporaryError
from firstline.notify.slack_interactions import SlackRequestRejected
from firstline.service.problems import Problem, answer_for
from firstline.store.errors import StoreBusy, StoreUnavailable
from firstline.store.incidents import UnknownIncident


def _answer(exc: FirstlineError) -> tuple[int, dict[str, str], dict[str, str]]:
    response = answer_for(exc, retry_after_seconds=2)
    return response.status_code, json.loads(bytes(response.body)), dict(response.headers)


def test_a_permanent_error_answers_its_status_and_its_message() -> None:
    status, body, headers = _answer(UnknownIncident("inc-nope"))
    assert (status, body) == (404, {"error": "no incident with id 'inc-nope'"})
    assert "retry-after" not in headers and headers["content-type"] == "application/json"
    assert _answer(Conflict("already approved"))[:2] == (409, {"error": "already approved"})
    assert _answer(NeedsPerson("a person must decide"))[0] == 409


def test_a_temporary_error_says_when_to_retry() -> None:
    status, body, headers = _answer(StoreUnavailable("the store is unavailable (disk I/O error)"))
    assert status == 503 and headers["retry-after"] == "2", "serve.retry_after_seconds"
    assert body == {"error": "the store is unavailable (disk I/O error); nothing was stored, retry"}
    assert _answer(StoreBusy("the store is busy (database is locked)"))[0] == 429
    assert _answer(Busy("slow down", retry_after=0.2))[2]["retry-after"] == "1"
    assert _answer(TemporaryError("later", retry_after=30))[2]["retry-after"] == "30"


def test_credentials_failures_say_nothing_more() -> None:
    status, body, _ = _answer(SlackRequestRejected("the Slack signature does not match"))
    assert (status, body) == (401, {"error": "unauthorized"})


def test_the_http_layer_keeps_its_own_statuses_and_headers() -> None:
    status, body, headers = _answer(Problem(413, "too big", {"X-Limit": "10"}))
    assert (status, body, headers["x-limit"]) == (413, {"error": "too big"}, "10")


def test_an_error_of_no_kind_is_a_bug_and_tells_nothing() -> None:
    assert _answer(FirstlineError("internal detail"))[:2] == (500, {"error": "internal error"})
