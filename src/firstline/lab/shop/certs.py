"""The lab's certificates: a lab CA (`ca.crt`) and the storefront's serving certificate
(`storefront.crt` / `storefront.key`) for 127.0.0.1 and localhost, issued for a given number
of days. The TLS fault installs one that expires in two days; the rotation runbook issues a
fresh 90-day one from the same CA."""

from __future__ import annotations

import contextlib
import ssl
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from firstline.lab.shop.logs import ShopLog

HEALTHY_DAYS = 90.0
EXPIRING_DAYS = 2.0
CA_DAYS = 3650
SERVER = "storefront"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "firstline lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])  # fmt: skip


def _write(path: Path, data: bytes, mode: int) -> None:
    """Atomically, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.chmod(mode)
    temporary.replace(path)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())  # fmt: skip


def ensure_ca(certs_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The lab CA, created on first use and reused afterwards."""
    cert_path, key_path = certs_dir / "ca.crt", certs_dir / "ca.key"
    if cert_path.is_file() and key_path.is_file():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return x509.load_pem_x509_certificate(cert_path.read_bytes()), key
    certs_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("firstline lab CA"))
        .issuer_name(_name("firstline lab CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, _pem_key(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def issue(certs_dir: Path, days: float = HEALTHY_DAYS, name: str = SERVER) -> Path:
    """A serving certificate for 127.0.0.1 and localhost, valid for `days` from now, signed by
    the lab CA; returns the certificate's path (the key sits beside it)."""
    ca_cert, ca_key = ensure_ca(certs_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path = certs_dir / f"{name}.crt"
    # the key first: the server reloads when the certificate changes, and then needs the
    # matching key already in place
    _write(certs_dir / f"{name}.key", _pem_key(key), 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_path


def not_after(cert_path: Path) -> datetime:
    return x509.load_pem_x509_certificate(cert_path.read_bytes()).not_valid_after_utc


class ReloadingCertificate:
    """A server-side TLS context that serves whatever certificate is on disk: every handshake
    compares the file's identity with the one loaded (one stat) and loads a replacement, so a
    rotated certificate is served without a restart."""

    def __init__(self, cert_path: Path, key_path: Path, log: ShopLog) -> None:
        self.cert_path, self.key_path, self.log = cert_path, key_path, log
        self._loaded: tuple[int, int, int] | None = None
        self._current: ssl.SSLContext | None = None

    def server_context(self) -> ssl.SSLContext:
        base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        base.sni_callback = self._choose  # called on every ClientHello, with or without SNI
        self._reload_if_changed()
        return base

    def _choose(self, connection: ssl.SSLObject, _name: str | None, _base: ssl.SSLContext) -> None:
        self._reload_if_changed()
        if self._current is not None:
            connection.context = self._current

    def _reload_if_changed(self) -> None:
        try:
            stat = self.cert_path.stat()
        except OSError:
            return
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if identity == self._loaded:
            return
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(self.cert_path, self.key_path)
        except (OSError, ssl.SSLError) as exc:
            # mid-rotation (key and certificate do not match yet): keep serving the old one
            self.log.warning(f"cannot load {self.cert_path.name}: {exc}")
            return
        self._loaded, self._current = identity, context
        with contextlib.suppress(OSError, ValueError):
            expiry = not_after(self.cert_path)
            self.log.info(f"serving certificate {self.cert_path.name}", not_after=expiry)
