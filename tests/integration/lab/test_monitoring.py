"""The lab's monitoring stack for real: every part started under the lab's supervisor on a
fresh lab dir, scraped, loaded, queried, and then stopped without leaving a process behind.

The shop, the lab controller and firstline itself are other parts of the lab and are not
started here: their targets are simply down, which is what Prometheus should say."""

from __future__ import annotations

import ipaddress
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from firstline.lab.monitoring import Monitoring, discard_postgres_data, start_monitoring
from firstline.lab.monitoring.prometheus import rule_files
from firstline.lab.supervisor import Supervisor
from firstline.lab.topology import Ports, Topology
from tests.services.loki import ns
from tests.services.process import pid_gone

pytestmark = pytest.mark.integration
T = TypeVar("T")
TOKEN = "lab-webhook-token"
CERT_DAYS = 2  # as the certificate fault installs


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f}s for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Topology, Monitoring]]:
    topology = Topology(lab_dir=Path(tmp_path_factory.mktemp("lab")), ports=Ports.allocate())
    topology.save()
    # the lab volume as the lab mounts it, a small tmpfs (where the machine lets us mount)
    topology.volume_dir.mkdir(parents=True)
    mount = ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(topology.volume_dir)]
    mounted = subprocess.run(mount, capture_output=True, check=False).returncode == 0
    issue_lab_certificates(topology.certs_dir, days=CERT_DAYS)
    storefront_tls = serve_https(topology.ports.storefront_tls, topology.certs_dir)
    supervisor = Supervisor(topology)
    try:
        monitoring = start_monitoring(topology, supervisor, webhook_token=TOKEN)
        yield topology, monitoring
    finally:
        supervisor.stop_all()
        discard_postgres_data(topology)
        storefront_tls.shutdown()
        if mounted:
            subprocess.run(["umount", str(topology.volume_dir)], check=False)


def issue_lab_certificates(certs: Path, days: int) -> None:
    """A CA at certs/ca.crt and a 127.0.0.1 certificate it signed, valid for `days`."""
    now = datetime.now(UTC).replace(microsecond=0)

    def build(
        subject: str,
        issuer: str,
        key: ec.EllipticCurvePrivateKey,
        signer: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
            builder = builder.add_extension(x509.SubjectAlternativeName([ip]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("lab CA", "lab CA", ca_key, ca_key, ca=True)
    leaf = build("storefront", "lab CA", key, ca_key, ca=False)
    certs.mkdir(parents=True, exist_ok=True)
    (certs / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (certs / "storefront.crt").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (certs / "storefront.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip


class _Healthy(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def serve_https(port: int, certs: Path) -> ThreadingHTTPServer:
    """What the storefront's TLS endpoint will be: a certificate from the lab CA."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Healthy)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "storefront.crt", certs / "storefront.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def volume_mounted(topology: Topology) -> bool:
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    return any(line.split()[1] == str(topology.volume_dir) for line in mounts)


def query(monitoring: Monitoring, promql: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{monitoring.prometheus_url}/api/v1/query", params={"query": promql})
    answer.raise_for_status()
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def test_prometheus_scrapes_every_exporter(lab: tuple[Topology, Monitoring]) -> None:
    _, monitoring = lab
    # the lab controller (kube-state-metrics, the shop's discovery) is not running here
    wanted = {"prometheus": "1", "node": "1", "postgres": "1", "redis": "1", "blackbox": "1",
              "kube-state-metrics": "0"}  # fmt: skip

    def up() -> dict[str, str] | None:
        results = query(monitoring, "up")
        seen = {r["metric"]["job"]: r["value"][1] for r in results}
        probes = [r for r in results if r["metric"]["job"] == "blackbox"]
        every = all(seen.get(job) == value for job, value in wanted.items())
        return seen if every and len(probes) == 2 else None

    seen = eventually(up, "every exporter's target up")
    assert "shop" not in seen  # no pod discovered: no target
    # the exporters really reach what they watch, through the roles and ports configured
    assert query(monitoring, 'pg_up{job="postgres", namespace="shop", service="postgres"} == 1')
    assert query(monitoring, 'redis_up{job="redis"} == 1')
    max_bytes = query(monitoring, "redis_memory_max_bytes")
    assert [float(r["value"][1]) for r in max_bytes] == [32 * 1024 * 1024]
    activity = query(monitoring, 'pg_stat_activity_count{datname="shop"}')
    assert {r["metric"]["state"] for r in activity} >= {"active", "idle in transaction"}
    # both blackbox probes are scheduled with their modules, labelled with what they check
    probes = {
        r["metric"]["service"]: r["metric"]["instance"]
        for r in query(monitoring, 'up{job="blackbox"}')
    }
    assert set(probes) == {"storefront", "payments"}
    assert probes["storefront"].startswith("https://127.0.0.1:")


def test_the_tls_probe_trusts_the_lab_ca(lab: tuple[Topology, Monitoring]) -> None:
    topology, monitoring = lab
    success = eventually(
        lambda: query(monitoring, 'probe_success{service="storefront"} == 1'),
        "the storefront's TLS probe to succeed",
    )
    assert (
        success[0]["metric"]["instance"]
        == f"https://127.0.0.1:{topology.ports.storefront_tls}/healthz"
    )
    (expiry,) = query(monitoring, 'probe_ssl_earliest_cert_expiry{service="storefront"}')
    served = x509.load_pem_x509_certificate((topology.certs_dir / "storefront.crt").read_bytes())
    assert float(expiry["value"][1]) == served.not_valid_after_utc.timestamp()
    # nothing answers for payments here: its probe fails, as BlackboxProbeFailed will read
    eventually(
        lambda: query(monitoring, 'probe_success{service="payments"} == 0'), "payments' probe"
    )


def test_the_lab_volume_is_the_only_filesystem_kept(lab: tuple[Topology, Monitoring]) -> None:
    topology, monitoring = lab
    eventually(lambda: query(monitoring, 'up{job="node"} == 1'), "the node exporter")
    assert query(monitoring, 'node_cpu_seconds_total{namespace="shop", node="lab-node"}')
    mounts = {r["metric"]["mountpoint"] for r in query(monitoring, "node_filesystem_size_bytes")}
    if not volume_mounted(topology):
        assert mounts == set(), mounts  # the machine's own filesystems are dropped
        pytest.skip("this machine cannot mount the lab volume (a tmpfs): only the drop is shown")
    assert mounts == {str(topology.volume_dir)}
    (size,) = query(monitoring, "node_filesystem_size_bytes")
    assert size["metric"]["fstype"] == "tmpfs" and size["value"][1] == str(4 * 1024 * 1024)


def test_the_rules_are_loaded(lab: tuple[Topology, Monitoring]) -> None:
    _, monitoring = lab
    answer = httpx.get(f"{monitoring.prometheus_url}/api/v1/rules").json()["data"]
    loaded = {rule["name"] for group in answer["groups"] for rule in group["rules"]}
    written = {
        rule["alert"]
        for path in rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    }
    assert loaded == written
    assert {"RedisOutOfConfiguredMaxmemory", "KubePodCrashLooping", "HighErrorRate"} <= loaded
    assert all(g["interval"] == 5 for g in answer["groups"])


def test_alertmanager_routes_to_firstlines_webhook(lab: tuple[Topology, Monitoring]) -> None:
    topology, monitoring = lab
    assert httpx.get(f"{monitoring.alertmanager_url}/-/ready").status_code == 200
    status = httpx.get(f"{monitoring.alertmanager_url}/api/v2/status").json()
    config = yaml.safe_load(status["config"]["original"])
    assert config["route"]["group_by"] == ["alertname", "namespace", "service"]
    (receiver,) = config["receivers"]
    (webhook,) = receiver["webhook_configs"]
    assert webhook["url"] == f"http://127.0.0.1:{topology.ports.firstline}/webhooks/alertmanager"
    assert webhook["send_resolved"] is True
    assert webhook["http_config"]["authorization"]["type"] == "Bearer"
    # Prometheus knows where to send
    alertmanagers = httpx.get(f"{monitoring.prometheus_url}/api/v1/alertmanagers").json()
    urls = [a["url"] for a in alertmanagers["data"]["activeAlertmanagers"]]
    assert urls == [f"http://127.0.0.1:{topology.ports.alertmanager}/api/v2/alerts"]


def test_a_pushed_log_line_can_be_queried(lab: tuple[Topology, Monitoring]) -> None:
    _, monitoring = lab
    now = datetime.now(UTC)
    line = f"checkout answered 502 after payments refused ({now.timestamp()})"
    stream = {"namespace": "shop", "service": "checkout", "pod": "checkout-7d9f-abcde"}
    pushed = httpx.post(
        f"{monitoring.loki_url}/loki/api/v1/push",
        json={"streams": [{"stream": stream, "values": [[ns(now), line]]}]},
    )
    assert pushed.status_code < 300, pushed.text

    def lines() -> list[str]:
        answer = httpx.get(
            f"{monitoring.loki_url}/loki/api/v1/query_range",
            params={"query": '{service="checkout"}', "start": ns(now - timedelta(minutes=1)),
                    "end": ns(now + timedelta(minutes=1))},
        )  # fmt: skip
        return [v[1] for s in answer.json()["data"]["result"] for v in s["values"]]

    assert eventually(lines, "the pushed line") == [line]


def test_each_role_can_do_what_it_is_for(lab: tuple[Topology, Monitoring]) -> None:
    _, monitoring = lab
    dsns = monitoring.postgres_dsns
    with psycopg.connect(dsns["shop"], autocommit=True) as shop:
        shop.execute("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY)")
        shop.execute("BEGIN")
        shop.execute("SELECT count(*) FROM orders")  # left idle in transaction
        shop_pid = shop.execute("SELECT pg_backend_pid()").fetchone()
        with psycopg.connect(dsns["firstline"], autocommit=True) as firstline:
            row = firstline.execute(
                "SELECT usename, state FROM pg_stat_activity WHERE pid = %s", shop_pid
            ).fetchone()
            assert row == ("shop", "idle in transaction")
            roles = firstline.execute(
                "SELECT rolsuper, pg_has_role('firstline', 'pg_signal_backend', 'member'),"
                " pg_has_role('firstline', 'pg_read_all_stats', 'member')"
                " FROM pg_roles WHERE rolname = 'firstline'"
            ).fetchone()
            assert roles == (False, True, True)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                firstline.execute("SELECT count(*) FROM orders")
    with psycopg.connect(dsns["exporter"]) as exporter:
        member = exporter.execute("SELECT pg_has_role('exporter', 'pg_monitor', 'member')")
        assert member.fetchone() == (True,)


def test_another_supervisor_stops_every_part(lab: tuple[Topology, Monitoring]) -> None:
    """Last in this module: `firstline lab stop`'s way, from the records in the lab dir."""
    topology, _ = lab
    later = Supervisor(Topology.load(topology.lab_dir))
    started = later.status()
    assert {s.name for s in started if s.alive} == {
        "postgres", "redis", "node-exporter", "postgres-exporter", "redis-exporter",
        "blackbox-exporter", "loki-clickhouse", "loki", "alertmanager", "prometheus",
    }  # fmt: skip
    later.stop_all()
    assert eventually(lambda: all(pid_gone(s.pid) for s in started), "every pid gone")
    assert later.status() == []
