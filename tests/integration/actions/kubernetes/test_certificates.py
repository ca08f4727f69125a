"""Certificate renewal through cert-manager, against kmock's emulator (a stand-in API
server; see emulator.py). No cert-manager runs here: the tests play its controller,
writing a real X.509 certificate (made with `cryptography`) into the TLS Secret."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from firstline.actions.kubernetes.rbac import rbac_manifests
from firstline.domain.action import ActionType
from tests.integration.actions.kubernetes.builders import EXPIRING, certificate, tls_secret
from tests.integration.actions.kubernetes.cases import KEY, _certs, act
from tests.integration.actions.kubernetes.conftest import Cluster, MakeExecutor
from tests.integration.actions.kubernetes.emulator import Authorizer

pytestmark = pytest.mark.integration
RENEW = act(ActionType.ROTATE_CERTIFICATE, "certificate", "web")


async def test_the_trigger_is_what_cmctl_renew_writes(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*_certs())

    outcome = await make_executor(certificate_wait_seconds=0).execute(RENEW, KEY)

    cert = cluster.get("Certificate", "web")
    assert cert is not None
    ready, issuing = cert["status"]["conditions"]
    assert ready["type"] == "Ready"  # other conditions are kept
    assert issuing == {
        "type": "Issuing",
        "status": "True",
        "reason": "ManuallyTriggered",
        "message": f"Certificate re-issuance manually triggered by firstline (action key {KEY})",
        "lastTransitionTime": "2026-07-21T15:00:00Z",
        "observedGeneration": 1,
    }
    status_writes = [w for w in cluster.writes() if w[2] == "certificates/status"]
    assert len(status_writes) == 1
    # Nobody issued a new certificate: not claimed as done.
    assert not outcome.ok
    assert "no new certificate in secret web-tls after 0s" in outcome.detail
    assert outcome.report["old_not_after"] == EXPIRING.isoformat()


async def test_a_failed_issuance_is_reported(cluster: Cluster, make_executor: MakeExecutor) -> None:
    cluster.add(*_certs())

    async def failing_cert_manager() -> None:
        for _ in range(1000):
            cert = cluster.get("Certificate", "web")
            assert cert is not None
            conditions = cert["status"]["conditions"]
            if any(c["type"] == "Issuing" for c in conditions):
                cert["status"]["conditions"] = [
                    *[c for c in conditions if c["type"] != "Issuing"],
                    {
                        "type": "Issuing",
                        "status": "False",
                        "reason": "Failed",
                        "message": "ACME order failed: rate limited",
                    },
                ]
                cluster.add(cert)
                return
            await asyncio.sleep(0.01)

    controller = asyncio.create_task(failing_cert_manager())
    outcome = await make_executor().execute(RENEW, KEY)
    await controller

    assert not outcome.ok
    assert outcome.detail.endswith("cert-manager failed to issue: ACME order failed: rate limited")


async def test_dry_run_reports_the_served_expiry(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(*_certs())
    text = await make_executor().dry_run(RENEW)
    assert f"secret web-tls now holds a certificate expiring {EXPIRING.isoformat()}" in text


async def test_a_missing_secret_is_named_not_fatal(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    """cert-manager creates a missing Secret on issuance: the renewal can still go on."""
    cluster.add(certificate("web", "web-tls"))
    text = await make_executor().dry_run(RENEW)
    assert "secret web-tls: the TLS Secret does not exist" in text
    assert (await make_executor().preflight(RENEW)).ok


async def test_a_certificate_without_a_secret_name_is_refused(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cert = certificate("web", "web-tls")
    del cert["spec"]["secretName"]
    cluster.add(cert, tls_secret("web-tls", EXPIRING, serial=1))
    preflight = await make_executor().preflight(RENEW)
    assert preflight.problems == ["the Certificate names no spec.secretName"]


async def test_a_certificate_whose_secret_is_not_named_in_settings_is_refused(
    cluster: Cluster, make_executor: MakeExecutor
) -> None:
    cluster.add(certificate("web", "other-tls"), tls_secret("other-tls", EXPIRING, serial=1))
    preflight = await make_executor().preflight(RENEW)
    assert preflight.problems == [
        "the Certificate's Secret other-tls is not one firstline may read "
        "(actions.kubernetes.certificate_secrets: web-tls)"
    ]
    assert not any(resource == "secrets" for _, _, resource, _ in cluster.emulator.seen)


def rbac_authorizer(manifests: list[dict[str, Any]]) -> Authorizer:
    """Decide a review as Kubernetes' RBAC authorizer does with these rules: a rule with
    `resourceNames` allows a request only for an object it names, never a nameless one."""
    rules = [r for m in manifests if m["kind"] in {"Role", "ClusterRole"} for r in m["rules"]]

    def decide(attributes: dict[str, Any]) -> bool:
        resource = attributes.get("resource", "")
        if attributes.get("subresource"):
            resource = f"{resource}/{attributes['subresource']}"
        return any(
            attributes.get("group", "") in rule["apiGroups"]
            and resource in rule["resources"]
            and attributes.get("verb") in rule["verbs"]
            and ("resourceNames" not in rule or attributes.get("name") in rule["resourceNames"])
            for rule in rules
        )

    return decide


@pytest.mark.parametrize(
    ("named", "problems"),
    [
        (("web-tls",), []),
        ((), ["RBAC: firstline may not get secrets web-tls in shop (no RBAC policy matched)"]),
        (
            ("other-tls",),
            ["RBAC: firstline may not get secrets web-tls in shop (no RBAC policy matched)"],
        ),
    ],
)
async def test_preflight_asks_for_the_named_secret_that_the_manifests_grant(
    cluster: Cluster,
    make_executor: MakeExecutor,
    named: tuple[str, ...],
    problems: list[str],
) -> None:
    """The generated rules (Secrets only by name) under an RBAC-like authorizer: preflight
    asks about the one TLS Secret it reads, so a grant by name is enough and is needed."""
    cluster.add(*_certs())
    manifests = rbac_manifests([ActionType.ROTATE_CERTIFICATE], certificate_secrets=named)
    cluster.emulator.authorizer = rbac_authorizer(manifests)
    preflight = await make_executor().preflight(RENEW)
    assert preflight.problems == problems
