"""Certificate renewal through cert-manager, against kmock's emulator (a stand-in API
server; see emulator.py). No cert-manager runs here: the tests play its controller,
writing a real X.509 certificate (made with `cryptography`) into the TLS Secret."""

from __future__ import annotations

import asyncio

import pytest

from firstline.domain.action import ActionType
from tests.integration.actions.kubernetes.builders import EXPIRING, certificate, tls_secret
from tests.integration.actions.kubernetes.cases import KEY, _certs, act
from tests.integration.actions.kubernetes.conftest import Cluster, MakeExecutor

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
