"""Charts of evidence, drawn on the server (matplotlib, imported lazily): SVG for the web
console and PNG for places that take images (Slack, reports)."""

from firstline.charts.metric import VerificationMark, metric_chart_png, metric_chart_svg

__all__ = ["VerificationMark", "metric_chart_png", "metric_chart_svg"]
