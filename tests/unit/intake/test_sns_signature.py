"""SNS message signatures (SignatureVersion 1 and 2), checked against a certificate we make.

The test signs the string to sign exactly as SNS documents it, built here by hand rather
than with the module's own helper, so a mistake in one is not mirrored in the other.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from firstline.intake.cloudwatch import verify_sns_signature

TOPIC = "arn:aws:sns:eu-west-1:210987654321:firstline-alarms"


def _certificate(key: Any) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.eu-west-1.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def cert_pem(rsa_key: rsa.RSAPrivateKey) -> bytes:
    return _certificate(rsa_key)


def _notification(
    subject: str | None = 'ALARM: "orders-queue-backlog" in EU (Ireland)',
) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": "5f0c2a4e-9c1d-5d7b-a3e9-2b8f7c1e6d40",
        "TopicArn": TOPIC,
        "Message": json.dumps({"AlarmName": "orders-queue-backlog", "NewStateValue": "ALARM"}),
        "Timestamp": "2026-03-04T14:07:00.512Z",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    }
    if subject is not None:
        envelope["Subject"] = subject
    return envelope


def _confirmation(kind: str = "SubscriptionConfirmation") -> dict[str, Any]:
    return {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e2425a8a58",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm, visit the SubscribeURL.",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f",
        "Timestamp": "2026-03-04T13:00:00.000Z",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
    }


def _documented_string_to_sign(env: dict[str, Any]) -> bytes:
    if env["Type"] == "Notification":
        text = f"Message\n{env['Message']}\nMessageId\n{env['MessageId']}\n"
        if "Subject" in env:
            text += f"Subject\n{env['Subject']}\n"
        text += f"Timestamp\n{env['Timestamp']}\nTopicArn\n{env['TopicArn']}\nType\n{env['Type']}\n"
    else:
        text = (
            f"Message\n{env['Message']}\nMessageId\n{env['MessageId']}\n"
            f"SubscribeURL\n{env['SubscribeURL']}\nTimestamp\n{env['Timestamp']}\n"
            f"Token\n{env['Token']}\nTopicArn\n{env['TopicArn']}\nType\n{env['Type']}\n"
        )
    return text.encode()


def _signed(env: dict[str, Any], key: rsa.RSAPrivateKey, version: str) -> dict[str, Any]:
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(_documented_string_to_sign(env), padding.PKCS1v15(), algorithm)
    return {**env, "SignatureVersion": version, "Signature": base64.b64encode(signature).decode()}


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize(
    "envelope",
    [
        _notification(),
        _notification(subject=None),
        _confirmation(),
        _confirmation("UnsubscribeConfirmation"),
    ],
    ids=["notification", "notification-without-subject", "subscribe", "unsubscribe"],
)
def test_a_genuine_signature_verifies(
    envelope: dict[str, Any], version: str, rsa_key: rsa.RSAPrivateKey, cert_pem: bytes
) -> None:
    assert verify_sns_signature(_signed(envelope, rsa_key, version), cert_pem)


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("field", ["Message", "MessageId", "Subject", "Timestamp", "TopicArn"])
def test_any_signed_field_changed_fails(
    field: str, version: str, rsa_key: rsa.RSAPrivateKey, cert_pem: bytes
) -> None:
    signed = _signed(_notification(), rsa_key, version)
    signed[field] = signed[field] + "x"
    assert not verify_sns_signature(signed, cert_pem)


def test_unsigned_fields_may_change(rsa_key: rsa.RSAPrivateKey, cert_pem: bytes) -> None:
    signed = _signed(_notification(), rsa_key, "2")
    signed["UnsubscribeURL"] = "https://elsewhere.example/"
    assert verify_sns_signature(signed, cert_pem)


def test_a_tampered_confirmation_url_fails(rsa_key: rsa.RSAPrivateKey, cert_pem: bytes) -> None:
    signed = _signed(_confirmation(), rsa_key, "1")
    signed["SubscribeURL"] = (
        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=evil"
    )
    assert not verify_sns_signature(signed, cert_pem)


def test_dropping_the_subject_fails(rsa_key: rsa.RSAPrivateKey, cert_pem: bytes) -> None:
    signed = _signed(_notification(), rsa_key, "2")
    del signed["Subject"]
    assert not verify_sns_signature(signed, cert_pem)


def test_the_version_must_match_the_hash(rsa_key: rsa.RSAPrivateKey, cert_pem: bytes) -> None:
    signed = _signed(_notification(), rsa_key, "1")
    assert not verify_sns_signature({**signed, "SignatureVersion": "2"}, cert_pem)
    assert not verify_sns_signature({**signed, "SignatureVersion": "3"}, cert_pem)
    assert not verify_sns_signature({**signed, "SignatureVersion": None}, cert_pem)


def test_another_key_fails(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _signed(_notification(), rsa_key, "2")
    stranger = _certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert not verify_sns_signature(signed, stranger)


def test_a_non_rsa_certificate_fails(rsa_key: rsa.RSAPrivateKey) -> None:
    signed = _signed(_notification(), rsa_key, "2")
    assert not verify_sns_signature(signed, _certificate(ec.generate_private_key(ec.SECP256R1())))


@pytest.mark.parametrize(
    "change",
    [
        {"Signature": "not base64!!"},
        {"Signature": ""},
        {"Signature": None},
        {"Signature": base64.b64encode(b"short").decode()},
        {"Type": "Surprise"},
        {"Type": None},
        {"Message": None},
        {"Subject": 5},
    ],
)
def test_malformed_envelopes_fail_without_raising(
    change: dict[str, Any], rsa_key: rsa.RSAPrivateKey, cert_pem: bytes
) -> None:
    signed = {**_signed(_notification(), rsa_key, "2"), **change}
    assert not verify_sns_signature(signed, cert_pem)


@pytest.mark.parametrize(
    "pem", [b"", b"-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n", b"\x00\xff"]
)
def test_a_broken_certificate_fails(pem: bytes, rsa_key: rsa.RSAPrivateKey) -> None:
    assert not verify_sns_signature(_signed(_notification(), rsa_key, "2"), pem)


def test_not_a_dict_fails(cert_pem: bytes) -> None:
    assert not verify_sns_signature([], cert_pem)  # type: ignore[arg-type]
