"""The web console: `GET /` lists incidents, `/incidents/{id}` shows one, and a principal
the policy names approves or rejects there, through the API's own approval path.

Every page needs a session (session.py), as every API read needs a token. Pages are
rendered on the server; console.js only polls a running investigation for its new state.
None of these routes is part of the API document (include_in_schema=False).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from firstline import __version__
from firstline.domain.alert import Severity
from firstline.domain.incident import IncidentStatus
from firstline.graph.approvals import ApprovalError
from firstline.reporting.documents import ReportFormat
from firstline.service.api import DecisionRequest, decide, report_response
from firstline.service.console import session
from firstline.service.console.views import (
    PAGE_SIZE,
    SINCE_CHOICES,
    ListQuery,
    ago,
    incident_list,
    incident_page,
)
from firstline.service.context import ServiceContext
from firstline.service.workers import WorkerPool
from firstline.store.incidents import UnknownIncident

HERE = Path(__file__).parent
STATIC_PATH = "/console/static"
# Scripts only from here; inline style attributes are the charts' (matplotlib's SVG).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'"
    " 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
DONE_NOTICES = {
    "approved": "Approved: the run resumed.",
    "rejected": "Rejected: escalated.",
    # serve --no-workers: the decision is recorded, a worker resumes the run
    "approved-queued": "Approved: a worker resumes the run; this page follows it.",
    "rejected-queued": "Rejected: a worker escalates the run; this page follows it.",
}


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static=STATIC_PATH, version=__version__, statuses=list(IncidentStatus),
                       severities=list(Severity), since_choices=list(SINCE_CHOICES))  # fmt: skip
    return env


def mount_console(app: FastAPI, ctx: ServiceContext, pool: WorkerPool) -> None:
    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="console-static")
    app.include_router(console_router(ctx, pool))


def console_router(ctx: ServiceContext, pool: WorkerPool) -> APIRouter:
    pages = _Pages(ctx, pool)
    router = APIRouter(include_in_schema=False)
    for path, endpoint, methods in (
        ("/", pages.incidents, ["GET"]),
        ("/incidents/{incident_id}", pages.incident, ["GET"]),
        ("/incidents/{incident_id}/live", pages.incident_live, ["GET"]),
        ("/incidents/{incident_id}/report", pages.report, ["GET"]),
        ("/incidents/{incident_id}/approve", pages.approve, ["POST"]),
        ("/incidents/{incident_id}/reject", pages.reject, ["POST"]),
        ("/login", pages.login_form, ["GET"]),
        ("/login", pages.login, ["POST"]),
        ("/logout", pages.logout, ["POST"]),
    ):
        router.add_api_route(path, endpoint, methods=methods, response_class=HTMLResponse)
    return router


class _Pages:
    def __init__(self, ctx: ServiceContext, pool: WorkerPool) -> None:
        self.ctx, self.pool, self.env = ctx, pool, _environment()

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(**values)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def current(self, request: Request) -> session.Session | None:
        return session.read(self.ctx.settings, request.cookies.get(session.COOKIE))

    # -- reading ---------------------------------------------------------------------------
    def incidents(self, request: Request) -> Response:
        me = self.current(request)
        if me is None:
            return _to_login(request)
        query = ListQuery.parse(dict(request.query_params))
        rows = incident_list(self.ctx, query)
        older = None
        if len(rows) == PAGE_SIZE:  # perhaps more: the next page starts where this one ends
            older = "/?" + urlencode({**query.params(), "before": rows[-1].created_at.isoformat()})
        now = self.ctx.clock()
        return self.page("list.html", me=me, query=query, rows=rows, older=older,
                         ago=lambda moment: ago(moment, now))  # fmt: skip

    def incident(self, request: Request, incident_id: str, done: str = "") -> Response:
        me = self.current(request)
        if me is None:
            return _to_login(request)
        try:
            view = incident_page(self.ctx, incident_id, me.caller)
        except UnknownIncident:
            return self.page("missing.html", 404, me=me, incident_id=incident_id)
        return self.page("incident.html", me=me, view=view, notice=DONE_NOTICES.get(done, ""),
                         error="")  # fmt: skip

    def incident_live(self, request: Request, incident_id: str) -> Response:
        """The changing part of the page, for console.js to swap in while a run goes on."""
        me = self.current(request)
        if me is None:
            return Response(status_code=401)
        try:
            view = incident_page(self.ctx, incident_id, me.caller)
        except UnknownIncident:
            return Response(status_code=404)
        return self.page("_incident_body.html", me=me, view=view)

    def report(self, request: Request, incident_id: str, format: str = "html") -> Response:
        """The postmortem draft for a signed-in person (the API's needs a bearer token)."""
        me = self.current(request)
        if me is None:
            return _to_login(request)
        try:
            chosen = ReportFormat(format)
        except ValueError:
            return self.page("missing.html", 404, me=me, incident_id=incident_id)
        try:
            return report_response(self.ctx, incident_id, chosen, headers=SECURITY_HEADERS)
        except UnknownIncident:
            return self.page("missing.html", 404, me=me, incident_id=incident_id)

    # -- deciding --------------------------------------------------------------------------
    async def approve(self, request: Request, incident_id: str) -> Response:
        return await self.decision(request, incident_id, approved=True)

    async def reject(self, request: Request, incident_id: str) -> Response:
        return await self.decision(request, incident_id, approved=False)

    async def decision(self, request: Request, incident_id: str, *, approved: bool) -> Response:
        me = self.current(request)
        form = await _form(request)
        if me is None or not _same_origin(request) or not session.csrf_ok(me, form.get("csrf")):
            return self.page("refused.html", 403, me=me)
        if me.caller.principal is None:
            return await self.refused(me, incident_id, 403, "this token names no principal")
        body = DecisionRequest(comment=form.get("comment", "")[:2000])
        try:  # the API's own path: same policy, audit, metrics and resumption
            answer = await decide(self.ctx, self.pool, incident_id, body, me.caller.principal,
                                  approved=approved, channel="console")  # fmt: skip
        except UnknownIncident:
            return self.page("missing.html", 404, me=me, incident_id=incident_id)
        except ApprovalError as refused:  # not allowed (audited), already decided, not waiting
            return await self.refused(me, incident_id, refused.status, str(refused))
        verdict = ("approved" if approved else "rejected") + ("" if answer.resumed else "-queued")
        return RedirectResponse(f"/incidents/{incident_id}?done={verdict}", status_code=303)

    async def refused(
        self, me: session.Session, incident_id: str, status: int, why: str
    ) -> Response:
        """The incident's page as it is now, saying why nothing was done (never a message
        carried in a URL, which anyone could write)."""
        view = await run_in_threadpool(incident_page, self.ctx, incident_id, me.caller)
        return self.page("incident.html", status, me=me, view=view, notice="", error=why)

    # -- signing in and out ----------------------------------------------------------------
    def login_form(self, request: Request) -> Response:
        target = _local(request.query_params.get("next", "/"))
        return self.page("login.html", me=None, next=target, error="")

    async def login(self, request: Request) -> Response:
        form = await _form(request)
        target = _local(form.get("next", "/"))
        token = form.get("token", "").strip()
        if not _same_origin(request):
            return self.page("refused.html", 403, me=None)
        caller = self.ctx.authenticator.api({"authorization": f"Bearer {token}"}) if token else None
        if caller is None:
            return self.page("login.html", 401, me=None, next=target,
                             error="That token is not one this service accepts.")  # fmt: skip
        answer = RedirectResponse(target, status_code=303)
        answer.set_cookie(
            session.COOKIE, session.issue(token), max_age=session.LIFETIME_SECONDS,
            httponly=True, samesite="strict", secure=_https(request), path="/",
        )  # fmt: skip
        return answer

    async def logout(self, request: Request) -> Response:
        me = self.current(request)
        form = await _form(request)
        if me is not None and not session.csrf_ok(me, form.get("csrf")):
            return self.page("refused.html", 403, me=me)
        answer = RedirectResponse("/login", status_code=303)
        answer.delete_cookie(session.COOKIE, path="/")
        return answer


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (first value of each): the console sends nothing else."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(raw, max_num_fields=20).items()}


def _local(target: str) -> str:
    """Only a path on this site: never another host after signing in."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _same_origin(request: Request) -> bool:
    """A browser names the page a form came from; it must be ours (with SameSite=Strict
    and the CSRF token, the third guard against a forged form)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    # behind a proxy that rewrites Host, the public name is in X-Forwarded-Host
    ours = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "")}
    return urlsplit(origin).netloc in ours - {""}


def _https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"
