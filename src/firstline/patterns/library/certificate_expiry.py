"""Certificate expiry: a TLS certificate is about to expire, or already has.

Typical alerts: SSLCertExpiringSoon, BlackboxSslCertificateWillExpireSoon,
CertManagerCertExpirySoon, BlackboxProbeFailed. The key signal is the certificate's own
expiry (blackbox `probe_ssl_earliest_cert_expiry - time()`) or clients failing with
"x509: certificate has expired". Two cases differ in what to do:

- *expiring* (still valid, days left): re-issue it through its issuer (rotate_certificate,
  medium risk, needs approval);
- *expired*: the outage is on, and the automated renewal has already failed once; firing it
  again blindly rarely helps, so a person gets exact steps.

Other TLS errors (unknown authority, hostname mismatch) are not expiry and weigh against it.
"""

from __future__ import annotations

import re

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import KubeEvent
from firstline.domain.query import MetricQuery
from firstline.patterns.base import Pattern, PatternContext, Scorecard

DAY = 86400.0
SOON = 30 * DAY
VERY_SOON = 7 * DAY

CERT_EXPIRY_SECONDS = MetricQuery(
    name="cert_expiry_seconds",
    unit="seconds",
    # a blackbox probe's instance is the probed URL: the alert's own instance names it
    promql=(
        'min(probe_ssl_earliest_cert_expiry{instance="$instance"}) - time()'
        ' or min(probe_ssl_earliest_cert_expiry{instance=~".*$service.*"}) - time()'
    ),
    description="Seconds until the earliest certificate in the served chain expires.",
)
CERT_PROBE_SUCCESS = MetricQuery(
    name="cert_probe_success",
    unit="ratio",
    promql=(
        'min(probe_success{instance="$instance"}) or min(probe_success{instance=~".*$service.*"})'
    ),
    description="Whether the blackbox HTTPS probe succeeds (1) or fails (0).",
)

EXPIRED_LINES = (
    "certificate has expired",
    "certificate expired",
    "expired certificate",
    "cert_has_expired",
    "certificate is expired",
)
HANDSHAKE_LINES = ("tls handshake", "handshake failure", "ssl handshake", "ssl_error")
OTHER_TLS_LINES = (
    "signed by unknown authority",
    "certificate is valid for",
    "self signed certificate",
    "self-signed certificate",
    "hostname mismatch",
)
_RENEWAL_REASONS = {"Failed", "Errored", "OrderFailed", "IssuerNotReady", "ErrInitIssuer"}


def _renewal_failures(events: list[KubeEvent]) -> list[KubeEvent]:
    return [
        e
        for e in events
        if e.type == "Warning"
        and e.reason in _RENEWAL_REASONS
        and e.object.lower().split("/")[0] in {"certificate", "certificaterequest", "order"}
    ]


def _days(seconds: float) -> str:
    if abs(seconds) >= DAY:
        return f"{abs(seconds) / DAY:.1f} days"
    if abs(seconds) >= 3600:
        return f"{abs(seconds) / 3600:.1f} hours"
    return f"{abs(seconds) / 60:.0f} minutes"


def probed_endpoint(ctx: PatternContext) -> str | None:
    """The endpoint a blackbox probe checked (`instance`, `target` or `url`), if the alert or
    the expiry series names one as a URL or host:port."""
    metric = ctx.evidence.metric("cert_expiry_seconds")
    for source in (ctx.alert.labels, metric.labels if metric else {}):
        for key in ("instance", "target", "url"):
            value = source.get(key, "")
            if "://" in value or re.fullmatch(r"[A-Za-z0-9.-]+:\d{1,5}", value):
                return value
    return None


def _endpoint_name(endpoint: str) -> str:
    """'https://127.0.0.1:8443/health' -> '127.0.0.1-8443'; the default port is left out."""
    host_port = endpoint.split("://")[-1].split("/")[0]
    host, _, port = host_port.partition(":")
    return f"{host}-{port}" if port and port != "443" else host


def certificate_name(ctx: PatternContext) -> str:
    """The certificate's name (its label, else the alerted workload's `<name>-tls`
    convention), else the probed endpoint's host (see `known_by_endpoint_only`)."""
    metric = ctx.evidence.metric("cert_expiry_seconds")
    for source in (metric.labels if metric else {}, ctx.alert.labels):
        for key in ("certificate", "secret_name", "secret"):
            if value := source.get(key):
                return value
    if ctx.component is None and (endpoint := probed_endpoint(ctx)):
        return _endpoint_name(endpoint)
    return f"{ctx.component or 'service'}-tls"


def known_by_endpoint_only(ctx: PatternContext) -> bool:
    """No certificate, secret or workload names it: only the probed endpoint does (a
    certificate outside cert-manager, e.g. a file a server loads), so there is no issuer
    firstline could ask to re-issue it."""
    return ctx.component is None and certificate_name(ctx) == _endpoint_name(
        probed_endpoint(ctx) or ""
    )


class CertificateExpiry(Pattern):
    id = "certificate_expiry"
    title = "TLS certificate expiring or expired"
    default_severity = Severity.HIGH
    alert_names = (
        r".*(SSL|TLS|X509|Ssl|Tls).*",
        r".*Cert.*",
        r"Blackbox.*",
        r".*Probe.*Fail.*",
    )
    metrics = (CERT_EXPIRY_SECONDS, CERT_PROBE_SUCCESS)
    confirm_with = (
        "openssl s_client -connect HOST:443 -servername HOST | openssl x509 -noout -enddate",
        "kubectl describe certificate: the Ready condition and the last renewal attempt",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        expiry = ev.metric("cert_expiry_seconds")
        left = expiry.last if expiry else None
        logs = ev.logs()
        expired_lines = max(
            logs.count_matching(*EXPIRED_LINES) if logs else 0,
            ctx.signals.count("cert_expired", in_scope=None),
        )
        expired = (left is not None and left <= 0) or expired_lines >= 2
        key = False
        if expiry is not None and left is not None:
            if left <= 0:
                key = card.add(True, 3.5, f"the certificate expired {_days(left)} ago", expiry.id)
            elif left <= VERY_SOON:
                key = card.add(True, 3.5, f"the certificate expires in {_days(left)}", expiry.id)
            elif left <= SOON:
                key = card.add(True, 3.0, f"the certificate expires in {_days(left)}", expiry.id)
            else:
                card.add(
                    True, -1.0, f"the served certificate is valid for {_days(left)}", expiry.id
                )
        if expired_lines >= 2:
            card.add(
                True,
                1.0 if key else 3.0,
                f"{expired_lines} log lines of clients rejecting an expired certificate",
                "logs",
            )
            key = True
        handshakes = logs.count_matching(*HANDSHAKE_LINES) if logs else 0
        card.add(key and handshakes > 0, 0.5, f"{handshakes} TLS handshake failures", "logs")
        other_tls = logs.count_matching(*OTHER_TLS_LINES) if logs else 0
        card.add(
            other_tls > 0 and not key,
            -0.5,
            "the TLS errors are about trust or hostname, not expiry",
            "logs",
        )
        probe = ev.metric("cert_probe_success")
        card.add(
            expired and probe is not None and probe.last == 0,
            0.75,
            "the HTTPS probe fails",
            "metric:cert_probe_success",
        )
        events = ev.events()
        renewal = _renewal_failures(events.events) if events else []
        card.add(
            key and bool(renewal),
            0.75,
            f"the issuer failed to renew it ({renewal[0].message[:120]})" if renewal else "",
            "events",
        )
        card.add(not key, -2.5, "no certificate near or past expiry, and no expiry errors")
        name = certificate_name(ctx)
        shown = name
        if known_by_endpoint_only(ctx):
            shown = f"{name} (served at {probed_endpoint(ctx)})"
        if expired:
            cause = f"certificate {shown} has expired: clients reject the TLS handshake"
        else:
            cause = f"certificate {shown} is about to expire and has not been renewed"
        return card, cause, [name]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        name = certificate_name(ctx)
        ns = ctx.namespace or "default"
        target = Target(kind="certificate", name=name, namespace=ctx.namespace)
        if known_by_endpoint_only(ctx):
            return [_renew_by_hand(target, probed_endpoint(ctx) or name)]
        expiry = ctx.evidence.metric("cert_expiry_seconds")
        logs = ctx.evidence.logs()
        expired = (expiry is not None and expiry.last is not None and expiry.last <= 0) or (
            max(
                logs.count_matching(*EXPIRED_LINES) if logs else 0,
                ctx.signals.count("cert_expired", in_scope=None),
            )
            >= 2
        )
        if not expired:
            return [
                make_action(
                    ActionType.ROTATE_CERTIFICATE,
                    target,
                    rationale="the certificate is still valid; re-issuing it now avoids the "
                    "outage at expiry",
                    parameters={"certificate": name},
                )
            ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                target,
                rationale="the certificate already expired, so automated renewal has failed; "
                "a person must find out why before re-issuing",
                steps=[
                    f"kubectl -n {ns} describe certificate {name}  # read the Ready condition",
                    f"kubectl -n {ns} get certificaterequests,orders,challenges "
                    "# find the failing step of the issuance",
                    "fix the issuer problem (DNS/HTTP-01 challenge, rate limit, credentials)",
                    f"cmctl renew -n {ns} {name}  # then wait for Ready=True",
                    "verify: openssl s_client -connect <host>:443 -servername <host> "
                    "</dev/null | openssl x509 -noout -enddate",
                    "restart the ingress/pods only if they do not reload the new secret",
                ],
            )
        ]


def _renew_by_hand(target: Target, endpoint: str) -> RemediationAction:
    host_port = endpoint.split("://")[-1].split("/")[0]
    return make_action(
        ActionType.MANUAL_ONLY,
        target,
        rationale="the certificate is known only by the endpoint that serves it: no issuer "
        "firstline could ask to re-issue it (a rotation script can be declared as a policy "
        "runbook)",
        parameters={"endpoint": endpoint},
        steps=[
            f"openssl s_client -connect {host_port} </dev/null 2>/dev/null | openssl x509 "
            "-noout -enddate -subject -issuer  # which certificate, which issuer",
            "find where the server loads it (its TLS config: cert and key files or secret)",
            "issue a new certificate with the same names from that issuer, replace the files",
            "reload or restart the server so it serves the new certificate",
            f"verify: openssl s_client -connect {host_port} </dev/null | openssl x509 -noout "
            "-enddate",
        ],
    )


PATTERN = CertificateExpiry()
