"""Local stand-ins for PagerDuty, Opsgenie, Slack and a webhook receiver.

Real HTTP over loopback (http.server in a thread). Every request is checked against the
vendor's documented schema; a request that breaks it is answered 400 and recorded in
`violations`, so a test can assert there were none. Answers can be scripted per route:
`fail("pagerduty", 5, status=503)` makes the next five PagerDuty requests fail.

What is checked (from the vendors' public API docs):
- PagerDuty Events v2 (POST /v2/enqueue): routing_key (32 chars), event_action in
  trigger|acknowledge|resolve, dedup_key <= 255 chars; trigger needs payload.summary
  (<= 1024), payload.source, payload.severity in critical|error|warning|info;
  custom_details an object; links [{href, text}]. Answers 202 {status, message, dedup_key}.
  Also keeps PagerDuty's alert state per dedup_key to count pages actually opened.
- Opsgenie Alert API: `Authorization: GenieKey <key>`; create (POST /v2/alerts) needs
  message (<= 130), alias <= 512, description <= 15000, priority P1..P5, tags <= 20,
  details string->string; notes/close (POST /v2/alerts/{alias}/notes|close
  ?identifierType=alias) take note <= 25000, user <= 100, source <= 100. Answers 202.
- Slack Web API (POST /api/chat.postMessage, /api/chat.update): Bearer token, channel,
  text or blocks; <= 50 blocks; header text <= 150; section text <= 3000; button text
  <= 75, action_id <= 255, value <= 2000; chat.update needs ts; thread_ts when replying.
  Answers 200 {ok, channel, ts}; errors are HTTP 200 with ok=false, 429 with Retry-After.
- Slack incoming webhook (POST /hooks/slack): text or blocks, same block rules; "ok".
- Generic webhook (POST /hook): JSON, with the HMAC headers (checked by the test).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Seen:
    route: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Script:
    status: int | None  # None: answer normally
    retry_after: str | None = None
    slack_error: str | None = None


@dataclass
class VendorState:
    requests: list[Seen] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    scripts: dict[str, list[Script]] = field(default_factory=dict)
    pd_alerts: dict[str, str] = field(default_factory=dict)  # dedup_key -> status
    pd_pages_opened: int = 0
    og_alerts: dict[str, str] = field(default_factory=dict)  # alias -> open|closed
    og_notes: dict[str, list[str]] = field(default_factory=dict)
    slack_messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message
    slack_seq: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self, route: str) -> list[Seen]:
        return [r for r in self.requests if r.route == route and r.status < 300]


def _check_button(element: dict[str, Any], errors: list[str]) -> None:
    if len(element["text"]["text"]) > 75:
        errors.append("button text > 75")
    if len(element.get("action_id", "")) > 255:
        errors.append("action_id > 255")
    if len(element.get("value", "")) > 2000:
        errors.append("button value > 2000")
    if element.get("style") not in (None, "primary", "danger"):
        errors.append("bad button style")


def _check_block(block: dict[str, Any], errors: list[str]) -> None:
    kind = block.get("type")
    text = (block.get("text") or {}).get("text", "")
    if kind == "header" and (len(text) > 150 or block["text"].get("type") != "plain_text"):
        errors.append("header must be plain_text <= 150")
    if kind == "section" and not 1 <= len(text) <= 3000:
        errors.append(f"section text length {len(text)} (1..3000)")
    if kind == "actions":
        for element in block.get("elements", []):
            if element.get("type") == "button":
                _check_button(element, errors)
    if kind == "context" and len(block.get("elements", [])) > 10:
        errors.append("context > 10 elements")
    if len(block.get("block_id", "")) > 255:
        errors.append("block_id > 255")


def _check_blocks(blocks: Any, errors: list[str]) -> None:
    if not isinstance(blocks, list):
        errors.append("blocks must be a list")
        return
    if len(blocks) > 50:
        errors.append(f"{len(blocks)} blocks (max 50)")
    for block in blocks:
        _check_block(block, errors)


def _check_trigger(body: dict[str, Any], errors: list[str]) -> None:
    payload = body.get("payload")
    if not isinstance(payload, dict):
        errors.append("trigger needs a payload")
        return
    if not payload.get("summary") or len(payload["summary"]) > 1024:
        errors.append("payload.summary missing or > 1024")
    if not payload.get("source"):
        errors.append("payload.source missing")
    if payload.get("severity") not in ("critical", "error", "warning", "info"):
        errors.append(f"bad payload.severity {payload.get('severity')!r}")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        errors.append("custom_details must be an object")
    for link in body.get("links", []):
        if not link.get("href"):
            errors.append("link without href")


def _check_pagerduty(body: dict[str, Any], errors: list[str]) -> None:
    if len(str(body.get("routing_key", ""))) != 32:
        errors.append("routing_key must be 32 characters")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append(f"bad event_action {action!r}")
    key = body.get("dedup_key")
    if action != "trigger" and not key:
        errors.append("acknowledge/resolve need a dedup_key")
    if key is not None and len(key) > 255:
        errors.append("dedup_key > 255")
    if action == "trigger":
        _check_trigger(body, errors)
    allowed = {"routing_key", "event_action", "dedup_key", "payload", "links", "images",
               "client", "client_url"}  # fmt: skip
    if extra := set(body) - allowed:
        errors.append(f"unknown fields {sorted(extra)}")


def _check_opsgenie(
    path: str, headers: dict[str, str], body: dict[str, Any], errors: list[str]
) -> None:
    if not headers.get("authorization", "").startswith("GenieKey "):
        errors.append("missing GenieKey authorization")
    if path == "/v2/alerts":
        _check_opsgenie_create(body, errors)
    else:
        if len(body.get("note", "")) > 25000:
            errors.append("note > 25000")
        for name in ("user", "source"):
            if len(body.get(name, "")) > 100:
                errors.append(f"{name} > 100")


def _check_opsgenie_create(body: dict[str, Any], errors: list[str]) -> None:
    message = body.get("message")
    if not message or len(message) > 130:
        errors.append("message missing or > 130")
    if len(body.get("alias", "")) > 512:
        errors.append("alias > 512")
    if len(body.get("description", "")) > 15000:
        errors.append("description > 15000")
    if body.get("priority", "P3") not in ("P1", "P2", "P3", "P4", "P5"):
        errors.append(f"bad priority {body.get('priority')!r}")
    if len(body.get("tags", [])) > 20:
        errors.append("more than 20 tags")
    details = body.get("details", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in details.items()):
        errors.append("details must map strings to strings")
    if len(json.dumps(details)) > 8000:
        errors.append("details > 8000 characters")


class VendorServer:
    def __init__(self, slack_token: str = "xoxb-test", genie_key: str = "genie-test") -> None:
        self.state = VendorState()
        self.slack_token = slack_token
        self.genie_key = genie_key
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> VendorServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def succeed(self, route: str, times: int) -> None:
        """The next `times` requests are answered normally (before scripted failures)."""
        with self.state.lock:
            self.state.scripts.setdefault(route, []).extend(Script(None) for _ in range(times))

    def fail(self, route: str, times: int, status: int = 503, retry_after: str | None = None,
             slack_error: str | None = None) -> None:  # fmt: skip
        with self.state.lock:
            self.state.scripts.setdefault(route, []).extend(
                Script(status, retry_after, slack_error) for _ in range(times)
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                status, answer, extra = vendor._answer(self.path, dict(self.headers.items()), raw)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header(
                    "Content-Type",
                    "application/json" if not isinstance(answer, bytes) else "text/plain",
                )
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _route(self, path: str) -> str:
        if path.startswith("/v2/enqueue"):
            return "pagerduty"
        if path.startswith("/v2/alerts"):
            return "opsgenie"
        if path.startswith("/api/"):
            return "slack"
        if path.startswith("/hooks/slack"):
            return "slack_webhook"
        return "webhook"

    def _answer(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        headers = {k.lower(): v for k, v in headers.items()}
        route = self._route(path)
        state = self.state
        with state.lock:
            script = state.scripts.get(route, [])
            planned = script.pop(0) if script else None
            status, answer, extra = self._evaluate(route, path, headers, raw, planned)
            state.requests.append(Seen(route, path, headers, raw, status, time.monotonic()))
        return status, answer, extra

    def _evaluate(self, route: str, path: str, headers: dict[str, str], raw: bytes,
                  planned: Script | None) -> tuple[int, Any, dict[str, str]]:  # fmt: skip
        if planned is not None and planned.status is not None and planned.slack_error is None:
            extra = {"Retry-After": planned.retry_after} if planned.retry_after else {}
            return planned.status, {"error": "scripted failure"}, extra
        errors: list[str] = []
        try:
            body = json.loads(raw)
        except ValueError:
            self.state.violations.append(f"{route}: body is not JSON")
            return 400, {"error": "invalid json"}, {}
        if route == "pagerduty":
            _check_pagerduty(body, errors)
        elif route == "opsgenie":
            if headers.get("authorization") != f"GenieKey {self.genie_key}":
                return 401, {"message": "Could not authenticate", "took": 0.0}, {}
            _check_opsgenie(urlsplit(path).path, headers, body, errors)
        elif route in ("slack", "slack_webhook"):
            if route == "slack" and headers.get("authorization") != f"Bearer {self.slack_token}":
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            if not body.get("text") and not body.get("blocks"):
                errors.append("text or blocks required")
            if "blocks" in body:
                _check_blocks(body["blocks"], errors)
        if errors:
            self.state.violations.extend(f"{route} {path}: {e}" for e in errors)
            return 400, {"status": "invalid event", "errors": errors}, {}
        if planned is not None and planned.slack_error:  # Slack-style: HTTP 200, ok=false
            return 200, {"ok": False, "error": planned.slack_error}, {}
        return self._accept(route, path, body)

    def _accept(
        self, route: str, path: str, body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        if route == "pagerduty":
            return self._pagerduty(body)
        if route == "opsgenie":
            return self._opsgenie(path, body)
        if route == "slack":
            return self._slack(path, body)
        if route == "slack_webhook":
            return 200, b"ok", {}
        return 200, {"received": True}, {}

    def _pagerduty(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        state = self.state
        key = body.get("dedup_key") or f"generated-{len(state.requests)}"
        action = body["event_action"]
        current = state.pd_alerts.get(key)
        if action == "trigger" and current in (None, "resolved"):
            state.pd_pages_opened += 1  # PagerDuty opens a page; otherwise it de-duplicates
            state.pd_alerts[key] = "triggered"
        elif action == "acknowledge" and current == "triggered":
            state.pd_alerts[key] = "acknowledged"
        elif action == "resolve" and current is not None:
            state.pd_alerts[key] = "resolved"
        return 202, {"status": "success", "message": "Event processed", "dedup_key": key}, {}

    def _opsgenie(self, path: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        state = self.state
        parts = urlsplit(path)
        if parts.path == "/v2/alerts":
            state.og_alerts.setdefault(body.get("alias", ""), "open")
        else:
            alias = unquote(parts.path.split("/")[3])
            if parse_qs(parts.query).get("identifierType") != ["alias"]:
                state.violations.append("opsgenie: identifierType=alias expected")
            state.og_notes.setdefault(alias, []).append(body.get("note", ""))
            if parts.path.endswith("/close"):
                state.og_alerts[alias] = "closed"
        return 202, {"result": "Request will be processed", "took": 0.01, "requestId": "r1"}, {}

    def _slack(self, path: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        state = self.state
        method = path.rsplit("/", 1)[-1]
        if method == "chat.update":
            if body.get("ts") not in state.slack_messages:
                return 200, {"ok": False, "error": "message_not_found"}, {}
            state.slack_messages[body["ts"]] = body
            return 200, {"ok": True, "channel": body["channel"], "ts": body["ts"]}, {}
        if "thread_ts" in body and body["thread_ts"] not in state.slack_messages:
            return 200, {"ok": False, "error": "thread_not_found"}, {}
        state.slack_seq += 1
        ts = f"1700000000.{state.slack_seq:06d}"
        state.slack_messages[ts] = body
        return 200, {"ok": True, "channel": body["channel"], "ts": ts}, {}
