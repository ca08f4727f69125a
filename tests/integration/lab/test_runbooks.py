"""The lab's runbook scripts, run by firstline's own custom_script executor (its guards, only
PATH in the environment, `--target=...` arguments, the `.check` as the reconcile), acting for
real: the storefront's served certificate changes without a restart, and the lab volume's junk
export files go away."""

from __future__ import annotations

import shutil
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from firstline.actions.base import Reconciliation
from firstline.actions.catalog import make_action
from firstline.actions.scripts import ScriptExecutor
from firstline.actions.settings import ScriptActionSettings
from firstline.domain.action import ActionType, Target
from firstline.lab.shop.certs import EXPIRING_DAYS, issue
from firstline.lab.shop.runbooks import install_runbooks
from firstline.lab.shop.volume import VolumeError, fill, mount_volume, unmount_volume
from firstline.lab.topology import Ports, Topology
from tests.integration.lab.shop import ShopProcesses
from tests.services.process import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def topology(tmp_path: Path) -> Topology:
    return Topology(lab_dir=tmp_path / "lab", ports=Ports.allocate())


async def apply_runbook(topology: Topology, script: str, target: Target) -> str:
    """Install the lab's scripts and run one as firstline does: the reconcile (its `.check`)
    says not applied, preflight and execute succeed, the reconcile then says applied.
    Returns what the script printed."""
    install_runbooks(topology)
    settings = ScriptActionSettings(enabled=True, directory=topology.runbooks_dir,
                                    timeout_seconds=60)  # fmt: skip
    executor = ScriptExecutor(settings)
    action = make_action(ActionType.CUSTOM_SCRIPT, target, rationale="lab runbook",
                         parameters={"script": script})  # fmt: skip
    assert (await executor.reconcile(action, "lab-key")).state is Reconciliation.NOT_APPLIED
    assert (await executor.preflight(action)).ok
    outcome = await executor.execute(action, "lab-key")
    assert outcome.ok, outcome.report
    assert (await executor.reconcile(action, "lab-key")).state is Reconciliation.APPLIED
    return str(outcome.report["stdout"])


def served_not_after(port: int, ca: Path) -> datetime:
    """The certificate the server presents, verified against the lab CA."""
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).not_valid_after_utc


def days_left(moment: datetime) -> float:
    return (moment - datetime.now(UTC)) / timedelta(days=1)


def test_installed_scripts_are_executable_and_not_writable_by_others(topology: Topology) -> None:
    written = install_runbooks(topology)
    assert sorted(path.name for path in written) == [
        "clean-lab-volume", "clean-lab-volume.check",
        "rotate-storefront-cert", "rotate-storefront-cert.check",
    ]  # fmt: skip
    for path in [*written, topology.runbooks_dir]:
        mode = path.stat().st_mode
        assert mode & 0o111 and not mode & 0o002, f"{path}: {oct(mode)}"


async def test_cert_rotation_script_changes_the_served_certificate_without_a_restart(
    topology: Topology, shop_processes: ShopProcesses, lab_redis: str
) -> None:
    certs = topology.certs_dir
    issue(certs, days=EXPIRING_DAYS)
    tls_port = free_port()
    storefront = shop_processes.start("storefront", {
        "LAB_REDIS_URL": lab_redis, "LAB_CATALOG_URL": f"http://127.0.0.1:{free_port()}",
        "LAB_TLS_PORT": str(tls_port), "LAB_CERTS_DIR": str(certs),
    }, name="storefront-tls")  # fmt: skip
    pid = storefront.service.process.pid if storefront.service.process else None
    assert 1.9 < days_left(served_not_after(tls_port, certs / "ca.crt")) <= 2.0
    trust = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    async with httpx.AsyncClient(verify=trust) as client:
        healthy = await client.get(f"https://127.0.0.1:{tls_port}/healthz")
    assert healthy.json()["service"] == "storefront"

    storefront_target = Target(kind="deployment", namespace="shop", name="storefront")
    assert "valid until" in await apply_runbook(topology, "rotate-storefront-cert",
                                                storefront_target)  # fmt: skip

    assert 89.9 < days_left(served_not_after(tls_port, certs / "ca.crt")) <= 90.0
    assert storefront.service.process is not None
    assert storefront.service.process.pid == pid and storefront.service.process.poll() is None


@pytest.fixture
def volume(topology: Topology) -> Iterator[Path]:
    reason = mount_volume(topology.volume_dir, size_mb=16)
    if reason is not None:
        pytest.skip(f"this machine cannot mount the lab volume: {reason}")
    try:
        yield topology.volume_dir
    finally:
        unmount_volume(topology.volume_dir)


def test_fill_refuses_a_directory_that_is_not_the_mounted_lab_volume(tmp_path: Path) -> None:
    with pytest.raises(VolumeError, match="not a mounted lab volume"):
        fill(tmp_path, 50)
    assert not (tmp_path / "exports").exists()


async def test_volume_cleanup_script_deletes_only_the_junk_export_files(
    topology: Topology, volume: Path
) -> None:
    assert fill(volume, 85) > 0
    used = 100 * (1 - _free_fraction(volume))
    assert used >= 85
    keep = volume / "exports" / "orders-2026.csv"
    keep.write_text("kept\n")
    outside = topology.lab_dir / "outside.csv"
    outside.write_text("not on the volume\n")
    (volume / "exports" / "tmp" / "link.csv").symlink_to(outside)

    volume_target = Target(kind="volume", namespace="shop", name="lab-volume")
    assert "removed" in await apply_runbook(topology, "clean-lab-volume", volume_target)
    assert 100 * (1 - _free_fraction(volume)) < 10
    assert keep.read_text() == "kept\n"
    assert outside.read_text() == "not on the volume\n"
    assert (volume / "exports" / "tmp" / "link.csv").is_symlink()


def _free_fraction(path: Path) -> float:
    usage = shutil.disk_usage(path)
    return usage.free / usage.total
