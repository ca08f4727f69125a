"""`firstline report` and GET /api/v1/incidents/{id}/report on incidents made by real runs
of bundled scenarios: the deploy regression (approved, rolled back, verified) and an
escalated one whose alert carries markup. Facts are checked against the bundles' own files
(the alert, the scenario's world and its `expected` block), not against firstline's output.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import yaml

from firstline.reporting.settings import ReportSettings
from tests.conftest import OOM, SCENARIOS
from tests.e2e.test_cli import as_json, assert_one_line_error, firstline
from tests.services.firstline_server import READ_ONLY_TOKEN
from tests.services.inprocess_server import serve_in_thread, settings_for

pytestmark = pytest.mark.integration

DEPLOY = SCENARIOS / "deploy-regression-search-api"
ESCALATED = SCENARIOS / "unknown-conversion-drop-checkout"
MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'
DOCS = Path(__file__).resolve().parents[2] / "docs"


@dataclass
class Case:
    incident_id: str
    bundle: Path
    alert: dict[str, Any]
    scenario: dict[str, Any]


@dataclass
class Incidents:
    data_dir: Path
    deploy: Case
    escalated: Case
    auto_fixed: Case


def _case(bundle: Path, incident_id: str) -> Case:
    alert = json.loads((bundle / "alert.json").read_text())["alerts"][0]
    scenario = yaml.safe_load((bundle / "scenario.yaml").read_text())
    return Case(incident_id, bundle, alert, scenario)


@pytest.fixture(scope="module")
def incidents(tmp_path_factory: pytest.TempPathFactory) -> Incidents:
    root = tmp_path_factory.mktemp("reports")
    data_dir = root / "data"
    deploy = as_json(
        firstline(data_dir, "investigate", str(DEPLOY / "alert.json"), "--mode", "auto", "--json")
    )["incident_id"]
    as_json(firstline(data_dir, "approve", deploy, "--by", "alice", "--json"))
    # the escalated bundle, its alert's description carrying markup (alert text is untrusted)
    bundle = root / ESCALATED.name
    shutil.copytree(ESCALATED, bundle)
    payload = json.loads((bundle / "alert.json").read_text())
    for alert in payload["alerts"]:
        alert["annotations"]["description"] += " " + MARKUP
    (bundle / "alert.json").write_text(json.dumps(payload))
    escalated = as_json(firstline(data_dir, "investigate", str(bundle / "alert.json"), "--json"))
    fixed = as_json(
        firstline(data_dir, "investigate", str(OOM / "alert.json"), "--mode", "auto", "--json")
    )
    return Incidents(
        data_dir,
        _case(DEPLOY, deploy),
        _case(bundle, escalated["incident_id"]),
        _case(OOM, fixed["incident_id"]),
    )


def report(incidents: Incidents, *args: str) -> str:
    done = firstline(incidents.data_dir, "report", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def section(markdown: str, title: str) -> str:
    """The text under `## title`, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"no section {title!r} in:\n{markdown}"
    return match.group(1)


def minutes_before(now: str, offset: str) -> datetime:
    """A scenario's relative time ("-11m") as a moment."""
    match = re.fullmatch(r"-(\d+)m", offset)
    assert match, offset
    return datetime.fromisoformat(now) - timedelta(minutes=int(match.group(1)))


class Page(HTMLParser):
    """Every start tag with its attributes, and the text outside tags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def assert_self_contained(html: str) -> None:
    page = parse(html)
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "srcset", "data", "action"):
            value = attrs.get(name) or ""
            assert not urlparse(value.strip()).netloc, f"<{tag} {name}={value!r}> leaves the file"
            assert not value.strip().lower().startswith(("http:", "https:", "//")), (tag, value)
    assert not page.named("link") and not page.named("script")
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html), "a style loads something"
    assert "@import" not in html


# -- Markdown -------------------------------------------------------------------------------
def test_markdown_of_a_verified_rollback_states_the_bundles_facts(incidents: Incidents) -> None:
    case = incidents.deploy
    expected = case.scenario["expected"]
    text = report(incidents, case.incident_id[:12])  # an id prefix, as everywhere

    summary = section(text, "Summary")
    assert case.incident_id in summary
    assert case.alert["labels"]["alertname"] in text.splitlines()[0]
    assert case.alert["labels"]["service"] in text.splitlines()[0]
    assert case.alert["annotations"]["summary"] in summary
    assert "resolved" in summary and f"severity {expected['severity']}" in summary

    # the impact starts where the scenario's error ratio steps up, before the alert fired
    step = case.scenario["metrics"]["error_rate"]["shape"]["changes"][0]["at"]
    started = minutes_before(case.scenario["now"], step)
    impact = section(text, "Impact window")
    assert f"Start: {started:%Y-%m-%d %H:%M}" in impact
    assert "metric:error_rate" in impact and "ongoing" not in impact
    assert started < datetime.fromisoformat(case.alert["startsAt"])

    assert f"**{expected['pattern']}**" in section(text, "Root cause")
    acted = section(text, "Decisions, actions and verification")
    for action in expected["actions"]:
        assert re.search(rf"Action: {action} .*→ \*\*succeeded\*\*", acted), acted
    assert "approved by alice" in acted
    assert "Verification #1" in acted and "**passed**" in acted

    # the follow-up names the image the rollback moved away from: the newest revision's
    deployment = next(
        d for d in case.scenario["cluster"]["deployments"] if d["name"] == expected["component"]
    )
    newest = max(deployment["revisions"], key=lambda r: r["revision"])
    follow = section(text, "Follow-ups")
    assert newest["containers"][0]["image"] in follow and "- [ ]" in follow

    timeline = section(text, "Timeline (UTC)")
    assert "approved by alice" in timeline and "verification passed" in timeline
    audit = section(text, "Audit trail")
    assert "approval by alice: approved" in audit and "action by firstline" in audit
    # printed, not written: it says where the charts went
    assert "chart(s) omitted" in text and "charts/" not in text


def test_markdown_with_out_writes_one_png_per_charted_metric(
    incidents: Incidents, tmp_path: Path
) -> None:
    case = incidents.deploy
    out = tmp_path / "pm"
    said = report(incidents, case.incident_id, "--out", str(out))
    text = (out / "report.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\((charts/[^)]+\.png)\)", text)
    assert len(linked) == len(case.scenario["metrics"]), "one chart per metric the world has"
    for name in linked:
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in (out / "charts").iterdir()) == sorted(
        Path(n).name for n in linked
    )
    assert str(out / "report.md") in said and "omitted" not in text


def test_escalated_report_says_the_cause_is_unknown_and_what_was_ruled_out(
    incidents: Incidents,
) -> None:
    case = incidents.escalated
    expected = case.scenario["expected"]
    assert expected["decision"] == "escalate" and expected["actions"] == []
    text = report(incidents, case.incident_id)
    assert "**escalated**" in section(text, "Summary")
    cause = section(text, "Root cause")
    assert "Not found" in cause and "Ruled out:" in cause
    acted = section(text, "Decisions, actions and verification")
    assert "Decision: escalate" in acted and "No action was taken." in acted
    assert "Verification" not in acted
    assert "ongoing" in section(text, "Impact window")
    start = datetime.fromisoformat(case.alert["startsAt"])
    assert f"Start: {start:%Y-%m-%d %H:%M}" in section(text, "Impact window")
    follow = section(text, "Follow-ups")
    assert f"find the cause of {case.alert['labels']['alertname']}" in follow
    assert "make the fix permanent" not in follow and "guard against" not in follow


def test_a_restart_that_held_is_followed_up_as_a_symptom_relieved(incidents: Incidents) -> None:
    case = incidents.auto_fixed
    expected = case.scenario["expected"]
    assert expected["resolved"] and expected["actions"] == ["restart"]
    text = report(incidents, case.incident_id)
    assert f"**{expected['pattern']}**" in section(text, "Root cause")
    acted = section(text, "Decisions, actions and verification")
    assert f"Decision: {expected['decision']}" in acted and "**passed**" in acted
    assert "Approval" not in acted, "auto mode: nobody was asked"
    follow = section(text, "Follow-ups")
    assert "restart " in follow and "relieved the symptom, not its cause" in follow
    assert "make the fix permanent" not in follow
    assert "ongoing" not in section(text, "Impact window")


def test_markup_from_the_alert_is_text_in_markdown(incidents: Incidents) -> None:
    text = report(incidents, incidents.escalated.incident_id)
    assert "alert(" in text, "the description is in the report"
    assert "<script" not in text.lower() and "<img" not in text.lower()
    assert '&lt;script>alert("x")&lt;/script>' in text, "a `<` that opens no tag"


def test_json_is_the_report_model(incidents: Incidents) -> None:
    case = incidents.deploy
    data = json.loads(report(incidents, case.incident_id, "--json"))
    assert data["incident_id"] == case.incident_id
    assert data["status"] == "resolved"
    assert data["alert_name"] == case.alert["labels"]["alertname"]
    assert data["root_cause"]["pattern"] == case.scenario["expected"]["pattern"]
    assert [a["status"] for a in data["actions"]] == ["succeeded"]
    assert data["verifications"][0]["resolved"] is True
    charted = [e for e in data["evidence"] if e["chart"]]
    assert len(charted) == len(case.scenario["metrics"])


# -- HTML -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def html_files(incidents: Incidents, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each incident's HTML report, written once by `report --format html --out DIR`."""
    written = {}
    for which in ("deploy", "escalated"):
        out = tmp_path_factory.mktemp(f"html-{which}")
        case: Case = getattr(incidents, which)
        said = report(incidents, case.incident_id, "--format", "html", "--out", str(out))
        assert str(out / "report.html") in said
        written[which] = out
    return written


@pytest.mark.parametrize("which", ["deploy", "escalated"])
def test_html_is_one_file_with_a_chart_per_metric(
    incidents: Incidents, html_files: dict[str, Path], which: str
) -> None:
    case: Case = getattr(incidents, which)
    html = (html_files[which] / "report.html").read_text()
    assert not (html_files[which] / "charts").exists(), "HTML carries its charts inside"
    page = parse(html)
    charts = [a for a in page.named("svg") if a.get("role") == "img"]
    assert len(charts) == len(case.scenario["metrics"])
    ids = [a["id"] for _, a in page.tags if a.get("id")]
    assert len(ids) == len(set(ids)), "two charts share an id"
    assert_self_contained(html)
    assert "prefers-color-scheme: dark" in html and "@media print" in html
    assert case.alert["annotations"]["summary"] in "".join(page.text)


def test_markup_from_the_alert_is_escaped_in_html(html_files: dict[str, Path]) -> None:
    page = parse((html_files["escalated"] / "report.html").read_text())
    assert not page.named("script") and not page.named("img")
    assert not any("onerror" in attrs for _, attrs in page.tags)
    assert MARKUP in "".join(page.text), "shown as text, exactly as the alert said it"


# -- templates a user writes ----------------------------------------------------------------
def _docs_example() -> str:
    """The override example of docs/report.md, rendered here as it is shown there."""
    docs = (DOCS / "report.md").read_text()
    match = re.search(
        r"```jinja\n(\{% extends \"builtin/postmortem\.md\.j2\" %\}.*?)```", docs, re.S
    )
    assert match, "docs/report.md shows an override that extends the built-in Markdown"
    return match.group(1)


def test_a_template_from_the_docs_overrides_one_block(incidents: Incidents, tmp_path: Path) -> None:
    template = tmp_path / "ours.md.j2"
    template.write_text(_docs_example())
    case = incidents.deploy
    text = report(incidents, case.incident_id, "--template", str(template))
    assert "## Action items" in text and "## Follow-ups" not in text
    assert "## Root cause" in text, "the blocks it does not override stay"
    assert case.alert["annotations"]["summary"] in text


def test_templates_dir_setting_replaces_the_builtin(incidents: Incidents, tmp_path: Path) -> None:
    (tmp_path / "postmortem.md.j2").write_text(
        '{% extends "builtin/postmortem.md.j2" %}{% block audit %}## Sign-off\n{% endblock %}'
    )
    config = tmp_path / "firstline.yaml"
    config.write_text(yaml.safe_dump({"report": {"templates_dir": str(tmp_path)}}))
    done = firstline(
        incidents.data_dir, "--config", str(config), "report", incidents.deploy.incident_id
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.rstrip().endswith("## Sign-off") and "## Audit trail" not in text


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("{{ report.__class__.__mro__ }}", "template ours.md.j2"),
        ("{{ ''.__class__.__subclasses__() }}", "template ours.md.j2"),
        ("{% block summary %}", "line 1"),
        ('{% extends "builtin/nope.md.j2" %}', "builtin/nope.md.j2"),
        ("{{ report.no_such_field }}", "no_such_field"),
    ],
)
def test_a_broken_or_prying_template_is_one_line(
    incidents: Incidents, tmp_path: Path, body: str, needle: str
) -> None:
    template = tmp_path / "ours.md.j2"
    template.write_text(body)
    done = firstline(
        incidents.data_dir, "report", incidents.deploy.incident_id, "--template", str(template)
    )
    assert_one_line_error(done, needle)
    assert done.stdout == ""


def test_unknown_incident_is_one_line(incidents: Incidents) -> None:
    assert_one_line_error(firstline(incidents.data_dir, "report", "inc-nope"), "inc-nope")


# -- over HTTP ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(incidents: Incidents, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    templates = tmp_path_factory.mktemp("api-templates")
    (templates / "postmortem.html.j2").write_text(
        '{% extends "builtin/postmortem.html.j2" %}'
        "{% block title %}<h1>Our review: {{ report.title }}</h1>{% endblock %}"
    )
    settings = settings_for(incidents.data_dir).model_copy(
        update={"report": ReportSettings(templates_dir=templates)}
    )
    with serve_in_thread(settings) as (url, _):
        yield url


def test_api_report_as_html_and_markdown(incidents: Incidents, served: str) -> None:
    case = incidents.deploy
    headers = {"Authorization": f"Bearer {READ_ONLY_TOKEN}"}
    url = f"{served}/api/v1/incidents/{case.incident_id}/report"
    with httpx.Client(timeout=60) as client:
        html = client.get(url, params={"format": "html"}, headers=headers)
        markdown = client.get(url, headers=headers)
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html")
    page = parse(html.text)
    assert len([a for a in page.named("svg") if a.get("role") == "img"]) == len(
        case.scenario["metrics"]
    )
    assert_self_contained(html.text)
    assert "Our review: " in html.text, "report.templates_dir is the server's too"
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert f"**{case.scenario['expected']['pattern']}**" in section(markdown.text, "Root cause")
    assert "chart(s) omitted" in markdown.text


def test_api_report_refuses_without_a_token_and_knows_no_stranger(
    incidents: Incidents, served: str
) -> None:
    url = f"{served}/api/v1/incidents"
    with httpx.Client(timeout=30) as client:
        anonymous = client.get(f"{url}/{incidents.deploy.incident_id}/report")
        unknown = client.get(
            f"{url}/inc-00000000000000000000000000/report",
            headers={"Authorization": f"Bearer {READ_ONLY_TOKEN}"},
        )
        bad_format = client.get(
            f"{url}/{incidents.deploy.incident_id}/report",
            params={"format": "pdf"},
            headers={"Authorization": f"Bearer {READ_ONLY_TOKEN}"},
        )
    assert anonymous.status_code == 401
    assert incidents.deploy.alert["labels"]["alertname"] not in anonymous.text
    assert unknown.status_code == 404
    assert bad_format.status_code == 422


def test_a_broken_server_template_is_the_servers_500_not_the_callers_error(
    incidents: Incidents, tmp_path: Path
) -> None:
    """The operator's template (report.templates_dir) fails: the caller cannot fix that, so
    not a 4xx; the JSON error says which template and where."""
    (tmp_path / "postmortem.md.j2").write_text("{% block title %}unclosed")
    settings = settings_for(incidents.data_dir).model_copy(
        update={"report": ReportSettings(templates_dir=tmp_path)}
    )
    with serve_in_thread(settings) as (url, _), httpx.Client(timeout=60) as client:
        answer = client.get(
            f"{url}/api/v1/incidents/{incidents.deploy.incident_id}/report",
            headers={"Authorization": f"Bearer {READ_ONLY_TOKEN}"},
        )
    assert answer.status_code == 500
    assert "postmortem.md.j2" in answer.json()["error"]


# -- read in a browser ----------------------------------------------------------------------
def _luminance(css_colour: str) -> float:
    red, green, blue = (int(c) for c in re.findall(r"\d+", css_colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_html_follows_the_readers_scheme_and_prints_dark_on_white(
    html_files: dict[str, Path],
) -> None:
    """In Debian's Chromium (file://, nothing served): the page and the charts' text are
    dark on light, light on dark, and black on white when printed."""
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail(f"needs Debian's Chromium at {chromium}: run `make apt-services`")
    url = (html_files["deploy"] / "report.html").as_uri()
    probe = """() => {
        const body = getComputedStyle(document.body);
        const chart = document.querySelector('figure svg text');
        return [body.color, body.backgroundColor, getComputedStyle(chart).fill];
    }"""
    seen = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium))
        try:
            for scheme in ("light", "dark"):
                page = browser.new_page(color_scheme=scheme)
                page.goto(url)
                seen[scheme] = page.evaluate(probe)
                if scheme == "dark":
                    page.emulate_media(media="print")
                    seen["print"] = page.evaluate(probe)
                page.close()
        finally:
            browser.close()
    for scheme, (text, background, chart_text) in seen.items():
        dark_text = scheme != "dark"
        assert (_luminance(text) < _luminance(background)) is dark_text, (scheme, seen)
        assert (_luminance(chart_text) < 128) is dark_text, (scheme, chart_text)
    assert seen["print"][:2] == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"], "printed from dark"
