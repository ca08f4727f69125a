"""certificate_expiry: expiring (rotate) versus expired (a person), and other TLS errors."""

from __future__ import annotations

from firstline.domain.action import Risk
from firstline.patterns.library.certificate_expiry import DAY, PATTERN

from .builders_a import (
    action_types,
    alert,
    bundle_verdict,
    evaluate,
    evidence,
    hypothesis,
    logs,
    ruled_out,
    series,
    targets,
)

_LABELS = {"secret_name": "cart-tls"}


def test_bundle_expiring_rotates_through_the_issuer() -> None:
    _, _, verdict = bundle_verdict("certificate-expiring-payments-api", PATTERN.id)
    h = hypothesis(verdict)
    assert h.pattern == "certificate_expiry"
    assert 0.8 <= h.confidence <= 0.95
    assert action_types(h) == ["rotate_certificate"]
    assert targets(h) == ["certificate/payments/payments-api-tls"]
    assert h.suggested_actions[0].risk is Risk.MEDIUM
    assert {"metric:cert_expiry_seconds", "events"} <= set(h.evidence_refs)


def test_bundle_expired_escalates_with_steps() -> None:
    _, _, verdict = bundle_verdict("certificate-expired-ledger-gateway", PATTERN.id)
    h = hypothesis(verdict)
    assert h.confidence >= 0.9
    assert action_types(h) == ["manual_only"]
    assert h.suggested_actions[0].steps
    assert "expired" in h.cause
    assert {"metric:cert_expiry_seconds", "logs", "metric:cert_probe_success"} <= set(
        h.evidence_refs
    )


def test_expired_from_client_logs_alone() -> None:
    line = "x509: certificate has expired or is not yet valid: current time is after NotAfter"
    ev = evidence(logs((-4, line, {"app": "checkout"}), repeat=6))
    h = hypothesis(evaluate(PATTERN, alert("HighErrorRate"), ev))
    assert 0.55 <= h.confidence <= 0.8
    assert action_types(h) == ["manual_only"]


def test_twenty_days_left_is_plausible_and_rotates() -> None:
    ev = evidence(series("cert_expiry_seconds", 20 * DAY, unit="seconds", labels=_LABELS))
    h = hypothesis(evaluate(PATTERN, alert("SSLCertExpiringSoon"), ev))
    assert 0.55 <= h.confidence <= 0.75
    assert targets(h) == ["certificate/shop/cart-tls"]


def test_unknown_authority_with_a_valid_certificate_is_ruled_out() -> None:
    ev = evidence(
        series("cert_expiry_seconds", 60 * DAY, unit="seconds", labels=_LABELS),
        logs((-3, "x509: certificate signed by unknown authority", {"app": "checkout"}), repeat=9),
    )
    out = ruled_out(evaluate(PATTERN, alert("BlackboxProbeFailed"), ev))
    assert out.confidence < 0.05
    assert "valid for 60.0 days" in out.reason


def test_a_certificate_known_only_by_its_probed_endpoint_is_named_after_it() -> None:
    """A blackbox probe of a server outside cert-manager: no certificate, secret or
    workload label, so no issuer to ask; the steps and the endpoint go to a person (or to
    the operator's rotation runbook)."""
    probe = alert(
        "BlackboxSslCertificateWillExpireSoon",
        service=None,
        instance="https://127.0.0.1:8443",
        job="blackbox",
    )
    ev = evidence(
        series(
            "cert_expiry_seconds",
            3 * DAY,
            unit="seconds",
            labels={"instance": "https://127.0.0.1:8443"},
        )
    )
    h = hypothesis(evaluate(PATTERN, probe, ev))
    assert h.affected_components == ["127.0.0.1-8443"]
    assert "served at https://127.0.0.1:8443" in h.cause
    assert action_types(h) == ["manual_only"]
    assert targets(h) == ["certificate/shop/127.0.0.1-8443"]
    assert h.suggested_actions[0].parameters == {"endpoint": "https://127.0.0.1:8443"}
    assert any("s_client -connect 127.0.0.1:8443" in step for step in h.suggested_actions[0].steps)
