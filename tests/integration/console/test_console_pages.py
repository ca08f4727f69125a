"""Reading the console in Chromium: the list and its filters, an incident's page, and its
charts, against a served store with seeded incidents and one real run of a bundle."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from benchmarks.list_latency import seed
from playwright.sync_api import Browser, expect

from firstline.scenarios.bundled import bundled_dir
from tests.integration.console.conftest import Served, new_page, screenshot, sign_in
from tests.integration.service.test_inprocess import _open_incident, _wait_status
from tests.services.firstline_server import READ_ONLY_TOKEN
from tests.services.inprocess_server import serve_in_thread, settings_for

pytestmark = pytest.mark.integration

BUNDLE = bundled_dir() / "oom-kill-loop-checkout"
SEEDED = 60  # more than a page (50): the 'older' link is exercised too


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, Any]]]:
    """60 seeded incidents (service svc-<n>, severity high, a mix of statuses, opened in
    January 2026) and one real run of the OOM bundle, paused for approval."""
    data = tmp_path_factory.mktemp("console") / "data"
    counts = seed(data / "incidents.sqlite", SEEDED)
    with (
        serve_in_thread(settings_for(data), scenario=BUNDLE) as (url, ctx),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        incident = _open_incident(client)
        detail = _wait_status(client, incident, "awaiting_approval", queue="paused")
        yield Served(url, ctx), {"incident": incident, "detail": detail, "counts": counts}


def test_the_list_shows_the_newest_incidents_and_the_filters_narrow_it(
    browser: Browser, served: tuple[Served, dict[str, Any]]
) -> None:
    server, facts = served
    page = new_page(browser)
    sign_in(page, server.url, READ_ONLY_TOKEN)
    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text(facts["incident"])  # the real run is the newest
    screenshot(page, "list")
    page.get_by_role("link", name="Older incidents").click()
    expect(rows).to_have_count(SEEDED + 1 - 50)

    page.goto(server.url + "/")
    page.get_by_label("Status").select_option("escalated")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=escalated"))
    expect(rows).to_have_count(facts["counts"]["escalated"])
    expect(page.locator("tbody .badge.status-escalated")).to_have_count(
        facts["counts"]["escalated"]
    )

    page.goto(server.url + "/")
    page.get_by_label("Service").fill("checkout")  # the bundle's alert; svc-<n> are seeded
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(facts["incident"])
    page.get_by_label("Service").fill("svc-7")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)

    for label, value in (("Severity", "medium"), ("Opened", "24h")):
        page.goto(server.url + "/")
        page.get_by_label(label).select_option(value)
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)  # only the real run: medium, and opened today
        expect(rows.first).to_contain_text(facts["incident"])
    page.get_by_label("Severity").select_option("high")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_contain_text(["No incident matches"])

    phone = new_page(browser, phone=True)
    sign_in(phone, server.url, READ_ONLY_TOKEN)
    expect(phone.locator("table.incidents thead")).not_to_be_in_viewport()
    screenshot(phone, "list-phone")


def test_an_incident_page_shows_the_top_hypothesis_the_decision_and_its_rule(
    browser: Browser, served: tuple[Served, dict[str, Any]]
) -> None:
    server, facts = served
    incident, investigation = facts["incident"], facts["detail"]["investigation"]
    for scheme, dark in (("light", False), ("dark", True)):
        page = new_page(browser, dark=dark)
        sign_in(page, server.url, READ_ONLY_TOKEN, then=f"/incidents/{incident}")
        top = page.locator("li.hypothesis").first
        expect(top).to_contain_text("oom_kill_loop")  # the bundle's expected pattern
        decision = investigation["decision"]
        expect(page.locator(".decision-rule")).to_have_text(decision["rule"])
        expect(page.locator(".decision-outcome")).to_have_text(
            decision["outcome"].replace("_", " ")
        )
        expect(page.get_by_role("heading", name="Approval requested")).to_be_visible()
        # a read-only token may read, never decide: no buttons, and the page says why
        expect(page.get_by_role("button", name=re.compile("Approve|Reject"))).to_have_count(0)
        expect(page.locator("#approval-refusal")).to_contain_text("names no principal")
        if dark:  # the light one shows the page's top; the dark one, the reasoning
            page.locator("#hyp-title").evaluate("heading => heading.scrollIntoView()")
        screenshot(page, f"incident-{scheme}")
    phone = new_page(browser, phone=True, dark=True)
    sign_in(phone, server.url, READ_ONLY_TOKEN, then=f"/incidents/{incident}")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the incident page scrolls sideways on a phone ({width} px)"
    screenshot(phone, "incident-phone")


def test_each_chart_draws_one_marker_per_point_of_its_evidence(
    browser: Browser, served: tuple[Served, dict[str, Any]]
) -> None:
    server, facts = served
    incident = facts["incident"]
    items = facts["detail"]["investigation"]["evidence"]["items"]
    metrics = {i["id"]: i for i in items if i["kind"] == "metric" and i["points"]}
    assert metrics, "the bundle's run gathered metrics"
    page = new_page(browser)
    sign_in(page, server.url, READ_ONLY_TOKEN, then=f"/incidents/{incident}")
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(len(metrics))
    for n in range(len(metrics)):
        chart = charts.nth(n)
        evidence = metrics[chart.get_attribute("id").removeprefix("evidence-")]  # type: ignore[union-attr]
        points = len(evidence["points"])
        expect(chart.locator("[id$='-metric-points'] use")).to_have_count(points)
        svg = chart.locator("svg[role='img']")
        expect(svg.locator("desc")).to_contain_text(f"{points} points")
        expect(svg.locator("title")).to_contain_text(evidence["name"])
        expect(chart.locator("[id$='-alert-start']")).to_have_count(1)
        windows = 1 if any(f.get("started_at") for f in evidence["findings"]) else 0
        expect(chart.locator("[id$='-anomaly-window']")).to_have_count(windows)
        assert chart.locator("svg text").count() > 5, "labels are text, not paths"


def test_signing_in_and_out_over_http(served: tuple[Served, dict[str, Any]]) -> None:
    """No browser needed: what the session cookie is, and who gets in."""
    server, facts = served
    with httpx.Client(base_url=server.url, timeout=30) as client:
        away = client.get(f"/incidents/{facts['incident']}")
        assert away.status_code == 303
        assert away.headers["location"] == f"/login?next=%2Fincidents%2F{facts['incident']}"
        wrong = client.post("/login", data={"token": "not-a-token", "next": "/"})
        assert wrong.status_code == 401 and "firstline_session" not in client.cookies
        forged = client.post("/login", data={"token": READ_ONLY_TOKEN},
                             headers={"Origin": "https://elsewhere.example"})  # fmt: skip
        assert forged.status_code == 403 and "firstline_session" not in client.cookies
        offsite = client.post("/login", data={"token": READ_ONLY_TOKEN, "next": "//evil.example/"})
        assert offsite.status_code == 303 and offsite.headers["location"] == "/"
        cookie = offsite.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=43200" in cookie
        listed = client.get("/")
        assert listed.status_code == 200
        assert "script-src 'self'" in listed.headers["content-security-policy"]
        assert listed.headers["x-content-type-options"] == "nosniff"
        csrf = re.search(r'name="csrf" value="([^"]+)"', listed.text)
        assert csrf is not None
        assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
        out = client.post("/logout", data={"csrf": csrf.group(1)})
        assert out.status_code == 303 and "firstline_session" not in client.cookies
        assert client.get("/").status_code == 303
        paths = client.get("/openapi.json").json()["paths"]
        assert not [p for p in paths if not p.startswith(("/api/", "/webhooks/", "/slack/"))
                    and p not in ("/healthz", "/readyz", "/metrics")], "the console is not API"  # fmt: skip


def test_the_incident_page_links_to_its_postmortem_draft_for_a_signed_in_person(
    browser: Browser, served: tuple[Served, dict[str, Any]]
) -> None:
    """The report through the console's session (the API's needs a bearer token): one
    inline chart per metric with points, the alert the bundle fired."""
    server, facts = served
    incident = facts["incident"]
    items = facts["detail"]["investigation"]["evidence"]["items"]
    metrics = [i for i in items if i["kind"] == "metric" and i["points"]]
    page = new_page(browser)
    sign_in(page, server.url, READ_ONLY_TOKEN, then=f"/incidents/{incident}")
    page.get_by_role("link", name="HTML").click()
    page.wait_for_url(f"{server.url}/incidents/{incident}/report")
    expect(page.locator("body")).to_contain_text(facts["detail"]["summary"]["alert_name"])
    expect(page.locator("svg[role=img]")).to_have_count(len(metrics))
    markdown = page.request.get(f"{server.url}/incidents/{incident}/report?format=md")
    assert markdown.ok and markdown.headers["content-type"].startswith("text/markdown")
    assert incident in markdown.text()
    signed_out = httpx.get(f"{server.url}/incidents/{incident}/report", follow_redirects=False)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]
