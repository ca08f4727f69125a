"""Renew a cert-manager Certificate the documented way, and read the TLS Secret it fills.

`cmctl renew` marks a Certificate for re-issuance by adding the status condition
`Issuing=True` (reason ManuallyTriggered); cert-manager's controller then issues a new
certificate into the Secret named by `spec.secretName`. firstline writes the same condition
through the status subresource, carrying its action key in the message so a reconcile can
tell its own request apart.
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from firstline.actions.kubernetes.plan import Plan, PlanContext, refuse

ISSUING = "Issuing"
_TRIGGER_MESSAGE = "Certificate re-issuance manually triggered by firstline"


def conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    found = (obj.get("status") or {}).get("conditions") or []
    return [c for c in found if isinstance(c, dict)]


def issuing(obj: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in conditions(obj) if c.get("type") == ISSUING), None)


def triggered_by(obj: dict[str, Any], key: str) -> bool:
    condition = issuing(obj)
    return condition is not None and f"(action key {key})" in str(condition.get("message", ""))


def status_view(obj: dict[str, Any]) -> dict[str, Any]:
    return {"status": {"conditions": copy.deepcopy(conditions(obj))}}


def plan_renew(ctx: PlanContext) -> Plan:
    secret = (ctx.live.get("spec") or {}).get("secretName")
    if not secret:
        return refuse(ctx, "the Certificate names no spec.secretName")
    if secret not in ctx.settings.certificate_secrets:
        named = ", ".join(ctx.settings.certificate_secrets) or "none"
        return refuse(
            ctx,
            f"the Certificate's Secret {secret} is not one firstline may read "
            f"(actions.kubernetes.certificate_secrets: {named})",
        )
    report: dict[str, str | int | float | bool | list[str]] = {"secret": str(secret)}
    current = issuing(ctx.live)
    if current is not None and current.get("status") == "True":
        # Already being issued: a second trigger changes nothing (cmctl skips it too).
        plan = Plan(before=ctx.live, after=copy.deepcopy(ctx.live), summary="", report=report)
        plan.view = status_view
        return plan
    message = _TRIGGER_MESSAGE + (f" (action key {ctx.key})" if ctx.key else "")
    condition: dict[str, Any] = {
        "type": ISSUING,
        "status": "True",
        "reason": "ManuallyTriggered",
        "message": message,
        "lastTransitionTime": ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    generation = (ctx.live.get("metadata") or {}).get("generation")
    if generation is not None:
        condition["observedGeneration"] = generation
    after = copy.deepcopy(ctx.live)
    kept = [c for c in conditions(ctx.live) if c.get("type") != ISSUING]
    after.setdefault("status", {})["conditions"] = [*kept, condition]
    return Plan(
        before=ctx.live,
        after=after,
        summary=f"mark the Certificate for re-issuance (Issuing=True); secret {secret}",
        report=report,
        status_subresource=True,
        view=status_view,
    )


@dataclass(frozen=True)
class ServedCertificate:
    not_after: datetime
    serial: str
    subject: str


def read_tls_secret(secret: dict[str, Any] | None) -> ServedCertificate | str:
    """The leaf certificate in a TLS Secret's tls.crt, or why there is none."""
    if secret is None:
        return "the TLS Secret does not exist"
    encoded = (secret.get("data") or {}).get("tls.crt")
    if not encoded:
        return "the TLS Secret has no tls.crt"
    try:
        pem = base64.b64decode(encoded, validate=True)
        cert = x509.load_pem_x509_certificate(pem)  # the first PEM block is the leaf
    except (binascii.Error, ValueError) as exc:
        return f"tls.crt is not a PEM certificate: {exc}"
    return ServedCertificate(
        not_after=cert.not_valid_after_utc,
        serial=format(cert.serial_number, "x"),
        subject=cert.subject.rfc4514_string(),
    )
