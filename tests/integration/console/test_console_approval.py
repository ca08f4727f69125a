"""Deciding in the console: only a principal the policy names sees Approve (and the policy
refuses anyone else's approval sent by hand); an approval on
the page resumes the run through the API's approval path and is audited under that
principal; a form without the session's CSRF token changes nothing; and a page left open
follows the run to its end."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from firstline.store.audit import AuditKind, AuditLog
from tests.integration.console.conftest import new_page, screenshot, sign_in
from tests.integration.service.test_inprocess import BUNDLE, _open_incident, _wait_status
from tests.services.firstline_server import PRINCIPALS
from tests.services.inprocess_server import serve_in_thread, settings_with_approvers

pytestmark = pytest.mark.integration


def test_an_approval_on_the_page_resumes_the_run_as_the_signed_in_principal(
    browser: Browser, tmp_path: Path
) -> None:
    with (
        serve_in_thread(settings_with_approvers(tmp_path, "ana"), scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        _wait_status(client, incident, "awaiting_approval", queue="paused")
        path = f"/incidents/{incident}"

        watcher = new_page(browser)  # bo: the policy does not name him for this
        sign_in(watcher, url, PRINCIPALS["bo"], then=path)
        expect(watcher.get_by_role("button", name="Reject as bo")).to_be_visible()
        expect(watcher.get_by_role("button", name=re.compile("Approve"))).to_have_count(0)
        expect(watcher.locator("#approval-refusal")).to_contain_text("bo may not approve")
        # and a hand-made approval from his session is refused by the policy, and audited
        csrf = watcher.locator("input[name=csrf]").first.get_attribute("value") or ""
        by_hand = watcher.request.post(
            f"{url}{path}/approve", form={"csrf": csrf}, headers={"Origin": url}
        )
        assert by_hand.status == 403 and "bo may not approve" in by_hand.text()
        [refusal] = AuditLog(ctx.store.path).records(incident, AuditKind.REFUSAL)
        assert refusal.actor == "bo" and refusal.details["channel"] == "console"

        page = new_page(browser)
        sign_in(page, url, PRINCIPALS["ana"], then=path)
        forged = page.request.post(f"{url}{path}/approve", form={"comment": "no csrf"})
        assert forged.status == 403, "a form without the session's CSRF token is refused"
        assert ctx.store.approval(incident).decided is False  # type: ignore[union-attr]

        page.get_by_label("Comment").fill("restart it")
        page.get_by_role("button", name="Approve as ana").click()
        page.wait_for_url(re.compile(r"done=approved"), timeout=60_000)
        expect(page.get_by_role("status").first).to_contain_text("Approved")

        detail = _wait_status(client, incident, "resolved", queue="done")  # the bundle's end
        assert detail["investigation"]["action_results"], "the approved action ran"
        [approval] = AuditLog(ctx.store.path).records(incident, AuditKind.APPROVAL)
        assert approval.actor == "ana" and approval.details["approved"] is True
        assert approval.details["channel"] == "console"
        assert approval.details["comment"] == "restart it"
        kind = page.locator("td.kind", has_text=re.compile(r"^approval$"))
        expect(page.locator("table.audit tbody tr", has=kind).locator("td.actor")).to_have_text(
            ["ana"]
        )

        # the verification after the fix is drawn on every chart of the evidence
        page.reload()
        charts = page.locator("figure.chart")
        expect(charts.first).to_be_visible()
        expect(charts.locator("[id$='-verification']")).to_have_count(charts.count())
        expect(charts.first.locator("desc")).to_contain_text("Verification")
        page.locator("#charts-title").evaluate("heading => heading.scrollIntoView()")
        screenshot(page, "charts-verified")

        # bo's page was never reloaded: it polled its way to the end
        expect(watcher.locator(".statusline .badge").first).to_have_text("resolved", timeout=30_000)
        expect(watcher.get_by_role("button", name="Reject as bo")).to_have_count(0)
