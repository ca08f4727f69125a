"""Objects for the executor tests, beyond the Deployment/ReplicaSet/Pod/Node builders of
tests/integration/kubernetes/objects.py: StatefulSets, DaemonSets, cert-manager
Certificates and TLS Secrets holding real X.509 certificates."""

from __future__ import annotations

import base64
import copy
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.integration.kubernetes.objects import NOW, Obj, deployment

RESOURCE_OF_KIND = {
    "Deployment": ("apps/v1/deployments", True),
    "StatefulSet": ("apps/v1/statefulsets", True),
    "DaemonSet": ("apps/v1/daemonsets", True),
    "ReplicaSet": ("apps/v1/replicasets", True),
    "Pod": ("v1/pods", True),
    "Node": ("v1/nodes", False),
    "Secret": ("v1/secrets", True),
    "Certificate": ("cert-manager.io/v1/certificates", True),
}


def workload(kind: str, name: str, namespace: str = "shop", **kwargs: object) -> Obj:
    """A Deployment-shaped object of another workload kind (the fields used are shared)."""
    obj = deployment(name, namespace, **kwargs)  # type: ignore[arg-type]
    obj["kind"] = kind
    if kind == "DaemonSet":
        obj["spec"].pop("replicas")
    return obj


def certificate(name: str, secret: str, namespace: str = "shop") -> Obj:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": namespace, "generation": 1},
        "spec": {
            "secretName": secret,
            "dnsNames": ["shop.example.com"],
            "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"},
        },
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "Ready", "message": "up to date"}
            ]
        },
    }


def pem_certificate(not_after: datetime, serial: int) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.example.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_after - timedelta(days=90))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def tls_secret(name: str, not_after: datetime, serial: int, namespace: str = "shop") -> Obj:
    chain = pem_certificate(not_after, serial) + pem_certificate(not_after + timedelta(days=900), 1)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"tls.crt": base64.b64encode(chain).decode(), "tls.key": "c2VjcmV0"},
    }


def with_changes(obj: Obj, **metadata: object) -> Obj:
    changed = copy.deepcopy(obj)
    changed["metadata"].update(metadata)
    return changed


EXPIRING = NOW + timedelta(days=3)
RENEWED = NOW + timedelta(days=90)
