"""A postmortem rendered from Jinja2 templates: Markdown with its charts as PNG files beside
it, or one self-contained HTML file with the charts inline as SVG.

Templates run in Jinja2's sandbox: a user's template (report.templates_dir, or `firstline
report --template`) may `{% extends "builtin/postmortem.html.j2" %}` and override blocks,
but not reach into Python. Incident text comes from alerts, which anyone who can send one
controls: HTML autoescapes it, and Markdown neutralises `<` so a viewer that passes raw
HTML through shows it as text (docs/report.md, "Untrusted text").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from firstline.charts import metric_chart_png, metric_chart_svg
from firstline.domain.incident import TimelineEntry
from firstline.errors import InvalidValue
from firstline.graph.state import IncidentState
from firstline.reporting.incident import state_from_store
from firstline.reporting.postmortem import (
    Postmortem,
    build_postmortem,
    chart_file,
    chart_metrics,
    verification_mark,
)
from firstline.store.base import AuditTrail, IncidentRepository

BUILTIN = Path(__file__).parent / "templates"


class ReportFormat(StrEnum):
    MD = "md"
    HTML = "html"

    @property
    def template(self) -> str:
        return f"postmortem.{self.value}.j2"

    @property
    def media_type(self) -> str:
        return (
            "text/markdown; charset=utf-8"
            if self is ReportFormat.MD
            else "text/html; charset=utf-8"
        )


@dataclass
class Rendered:
    text: str
    charts: dict[str, bytes] = field(default_factory=dict)
    """File name (charts/...png) -> PNG, for Markdown written with its charts."""


@dataclass(frozen=True)
class Templates:
    """Where templates come from: the built-in ones, overridden by any of the same name in
    `directory`, or one `file` used in place of the format's template."""

    directory: Path | None = None
    file: Path | None = None

    def environment(self, fmt: ReportFormat) -> SandboxedEnvironment:
        builtin = FileSystemLoader(BUILTIN)
        search = [d for d in (self.file.parent if self.file else None, self.directory) if d]
        loader = ChoiceLoader(
            [PrefixLoader({"builtin": builtin}), *(FileSystemLoader(d) for d in search), builtin]
        )
        html = fmt is ReportFormat.HTML
        env = SandboxedEnvironment(
            loader=loader, autoescape=html, trim_blocks=True, lstrip_blocks=True,
            keep_trailing_newline=True, undefined=StrictUndefined,
            finalize=None if html else _markdown_text,
        )  # fmt: skip
        env.filters["utc"] = _utc
        if not html:  # a span of Markdown: in HTML it would pass text through unescaped
            env.filters["code"] = _code_span
        return env

    def name(self, fmt: ReportFormat) -> str:
        return self.file.name if self.file else fmt.template


@dataclass(frozen=True)
class IncidentReport:
    """A postmortem with what its charts are drawn from."""

    postmortem: Postmortem
    state: IncidentState
    timeline: list[TimelineEntry]

    @classmethod
    def load(cls, store: IncidentRepository, audit: AuditTrail, incident_id: str) -> IncidentReport:
        """From the stores (UnknownIncident; NoSavedState while a run has saved nothing)."""
        state = state_from_store(store, incident_id)
        timeline = store.timeline(incident_id)
        return cls(build_postmortem(state, timeline, audit.records(incident_id)), state, timeline)

    def render(
        self, fmt: ReportFormat, templates: Templates | None = None, *, with_charts: bool = True
    ) -> Rendered:
        """The report as text. Markdown's charts are PNGs returned beside it (referenced by
        file name) when `with_charts`; without, the text says they were left out."""
        templates = templates or Templates()
        metrics = chart_metrics(self.state)
        started, mark = self.state.alert.starts_at, verification_mark(self.state, self.timeline)
        charts: dict[str, bytes] = {}
        svgs: dict[str, Markup] = {}
        for n, metric in enumerate(metrics):
            if fmt is ReportFormat.HTML:
                svgs[metric.id] = Markup(metric_chart_svg(metric, alert_started_at=started, verification=mark,
                                                         chart_id=f"chart-{n}"))  # fmt: skip
            elif with_charts:
                charts[chart_file(n, metric)] = metric_chart_png(metric, alert_started_at=started,
                                                                   verification=mark)  # fmt: skip
        try:
            template = templates.environment(fmt).get_template(templates.name(fmt))
            text = template.render(report=self.postmortem, svgs=svgs, chart_count=len(metrics),
                                   charts_written=bool(charts) or not metrics)  # fmt: skip
        except TemplateError as exc:  # a user's template: say which and where, in one line
            raise TemplateFailed(_where(exc, templates.name(fmt))) from exc
        return Rendered(text=text, charts=charts)


class TemplateFailed(InvalidValue):
    """A template could not be found, parsed or rendered (a user's override, usually): the
    person who chose the template must change it. Over HTTP the server answers 500 itself
    (service/api.py): the server's templates are its operator's input, not the caller's."""


def _where(exc: TemplateError, name: str) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"template {exc.filename or exc.name or name}, line {exc.lineno}: {exc.message}"
    if isinstance(exc, TemplateNotFound):
        return f"template not found: {exc.name}"
    return f"template {name}: {exc.message or type(exc).__name__}"


def _markdown_text(value: Any) -> Any:
    """Every `{{ value }}` in Markdown: `<` cannot open an HTML tag, and a line break
    cannot end the list item or heading the value stands in."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return " ".join(value.replace("<", "&lt;").split())


def _code_span(value: Any) -> Markup:
    """An inline code span, long enough to hold any backticks in the value (CommonMark);
    a code span shows its content as text, so it is not escaped further."""
    text = " ".join(str(value).split())
    fence = "`"
    while fence in text:
        fence += "`"
    return Markup(f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`")
                  else f"{fence}{text}{fence}")  # fmt: skip


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M:%S UTC")
