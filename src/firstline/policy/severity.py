"""Severity from the alert's own label, by the conventions people use; the best-matching
pattern's default when the alert carries none."""

from __future__ import annotations

from firstline.domain.alert import Alert, Severity

_LABEL_TO_SEVERITY = {
    Severity.CRITICAL: {"critical", "crit", "page", "p1", "sev1", "emergency", "fatal"},
    Severity.HIGH: {"high", "error", "major", "p2", "sev2"},
    Severity.MEDIUM: {"warning", "warn", "medium", "moderate", "p3", "sev3"},
    Severity.LOW: {"info", "informational", "low", "minor", "p4", "p5", "sev4", "none"},
}


def severity_from_label(value: str | None) -> Severity | None:
    if not value:
        return None
    lowered = value.strip().lower()
    return next((sev for sev, names in _LABEL_TO_SEVERITY.items() if lowered in names), None)


def triage_severity(alert: Alert, fallback: Severity | None) -> tuple[Severity, str]:
    """The severity and a sentence saying where it came from."""
    labelled = severity_from_label(alert.declared_severity)
    if labelled is not None:
        return labelled, f"from the alert's severity label {alert.declared_severity!r}"
    if fallback is not None:
        return fallback, "the alert has no usable severity label; the matching pattern's default"
    return Severity.MEDIUM, "the alert has no usable severity label and matches no pattern"
