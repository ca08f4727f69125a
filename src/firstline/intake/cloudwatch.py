"""AWS CloudWatch alarms delivered by Amazon SNS over HTTPS, and SNS's signature check.

SNS wraps every delivery in an envelope whose Type says what it is: a
SubscriptionConfirmation (the server must visit SubscribeURL once), a Notification (the
alarm, as a JSON string in Message) or an UnsubscribeConfirmation. With raw message
delivery turned on, SNS posts the alarm JSON alone, without envelope or signature.

Fetching the signing certificate is the server's job (after signing_cert_url_is_trusted);
everything here is pure.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firstline.domain.alert import Alert, AlertStatus
from firstline.intake.errors import AlertParseError
from firstline.intake.normalise import (
    build_alert,
    compact,
    first_error,
    json_kind,
    parse_time,
    require_object,
    vendor_fingerprint,
)

# sns.<region>.amazonaws.com, and .com.cn for the China regions, as AWS's own validators
# accept. Anything else could be a certificate the sender made up.
# Exactly the documented SNS endpoints: sns.<region>.amazonaws.com, and .amazonaws.com.cn
# for the China regions. A region code is <area>[-gov|-iso*]-<direction>-<n> (us-east-1,
# us-gov-west-1, ap-southeast-2); `sns.s3.amazonaws.com` and `sns.s3-eu-west-1...` are S3
# bucket hosts anyone can own, and do not match.
_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}"
_SNS_HOST = re.compile(
    rf"^sns\.(?:(?!cn-){_REGION}\.amazonaws\.com|cn-[a-z]+-\d{{1,2}}\.amazonaws\.com\.cn)$"
)
_SNS_CERT_PATH = re.compile(r"^/SimpleNotificationService-[0-9a-f]+\.pem$")

# The fields signed, in SNS's documented (byte) order, per message type.
_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_SIGNED_FIELDS = {
    "Notification": _NOTIFICATION_FIELDS,
    "SubscriptionConfirmation": _CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _CONFIRMATION_FIELDS,
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}

# INSUFFICIENT_DATA fires too: SNS only sends it when the alarm's owner asked to hear about
# it (InsufficientDataActions), and a metric that stops reporting is often the outage.
_RESOLVED_STATE = "OK"
_STATES = {"ALARM", "OK", "INSUFFICIENT_DATA"}


@dataclass(frozen=True)
class SubscriptionConfirmation:
    """SNS asks the endpoint to confirm; the server GETs subscribe_url (after checking the
    envelope's signature and that the topic is one it expects)."""

    subscribe_url: str
    topic_arn: str


class _Envelope(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type: str = Field(alias="Type")
    message_id: str = Field(alias="MessageId")
    topic_arn: str = Field(alias="TopicArn")
    message: str = Field(alias="Message")
    timestamp: str = Field(alias="Timestamp")
    subject: str | None = Field(default=None, alias="Subject")
    subscribe_url: str | None = Field(default=None, alias="SubscribeURL")


class _Dimension(BaseModel):
    name: str
    value: str


class _Trigger(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    metric_name: str | None = Field(default=None, alias="MetricName")
    namespace: str | None = Field(default=None, alias="Namespace")
    statistic: str | None = Field(default=None, alias="Statistic")
    comparison: str | None = Field(default=None, alias="ComparisonOperator")
    threshold: float | None = Field(default=None, alias="Threshold")
    dimensions: list[_Dimension] = Field(default_factory=list, alias="Dimensions")


class _Alarm(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    alarm_name: str = Field(min_length=1, alias="AlarmName")
    alarm_description: str | None = Field(default=None, alias="AlarmDescription")
    alarm_arn: str | None = Field(default=None, alias="AlarmArn")
    account_id: str | None = Field(default=None, alias="AWSAccountId")
    region: str | None = Field(default=None, alias="Region")
    new_state: str = Field(alias="NewStateValue")
    old_state: str | None = Field(default=None, alias="OldStateValue")
    reason: str | None = Field(default=None, alias="NewStateReason")
    state_change_time: str = Field(alias="StateChangeTime")
    trigger: _Trigger | None = Field(default=None, alias="Trigger")


def _is_sns_https_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and not parts.username
        and not parts.password
        and port in (None, 443)
        and bool(_SNS_HOST.match(parts.hostname or ""))
    )


def signing_cert_url_is_trusted(url: str) -> bool:
    """Whether SigningCertURL is an SNS certificate: https, host sns.<region>.amazonaws.com
    (or .com.cn in China), no credentials, query or odd port, and SNS's certificate path
    /SimpleNotificationService-<hex>.pem."""
    if not _is_sns_https_url(url):
        return False
    parts = urlsplit(url)
    return not parts.query and bool(_SNS_CERT_PATH.match(parts.path))


def _region_code(alarm: _Alarm) -> str | None:
    # The ARN carries the region code (us-east-1); Region is a display name ("US East
    # (N. Virginia)"). Labels get the code when there is one, as people query by it.
    if alarm.alarm_arn:
        parts = alarm.alarm_arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return alarm.region


def _labels(alarm: _Alarm) -> dict[str, str]:
    trigger = alarm.trigger or _Trigger()
    dimensions = {dim.name: dim.value for dim in trigger.dimensions}
    fixed = compact(
        {
            "aws_account_id": alarm.account_id,
            "region": _region_code(alarm),
            # Not "namespace": that label means a Kubernetes namespace everywhere else.
            "metric_namespace": trigger.namespace,
            "metric_name": trigger.metric_name,
        }
    )
    return {**dimensions, **fixed}


def _annotations(alarm: _Alarm, envelope: _Envelope | None) -> dict[str, str]:
    trigger = alarm.trigger or _Trigger()
    threshold = None
    if trigger.comparison and trigger.threshold is not None:
        threshold = f"{trigger.statistic or ''} {trigger.comparison} {trigger.threshold}".strip()
    return compact(
        {
            "summary": envelope.subject if envelope else None,
            "description": alarm.alarm_description,
            "reason": alarm.reason,
            "state": alarm.new_state,
            "previous_state": alarm.old_state,
            "alarm_arn": alarm.alarm_arn,
            "region_name": alarm.region,
            "threshold": threshold,
            "sns_topic_arn": envelope.topic_arn if envelope else None,
            "sns_message_id": envelope.message_id if envelope else None,
        }
    )


def _alarm_alert(
    alarm_json: Any, where: str, envelope: _Envelope | None, raw: dict[str, Any]
) -> Alert:
    if not isinstance(alarm_json, dict):
        raise AlertParseError(
            f"{where}: a CloudWatch alarm must be a JSON object, not {json_kind(alarm_json)}"
        )
    try:
        alarm = _Alarm.model_validate(alarm_json)
    except ValidationError as exc:
        raise AlertParseError(f"not a CloudWatch alarm: {where}.{first_error(exc)}") from exc
    if alarm.new_state not in _STATES:
        raise AlertParseError(
            f"{where}.NewStateValue: {alarm.new_state!r} is not one of ALARM, OK, INSUFFICIENT_DATA"
        )
    changed = parse_time(alarm.state_change_time, f"{where}.StateChangeTime")
    resolved = alarm.new_state == _RESOLVED_STATE
    return build_alert(
        where=where,
        source="cloudwatch",
        name=alarm.alarm_name,
        status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
        labels=_labels(alarm),
        annotations=_annotations(alarm, envelope),
        # An OK notification says when the alarm recovered, not when it began.
        starts_at=changed,
        ends_at=changed if resolved else None,
        # Account, region and name identify an alarm (they are what its ARN is made of),
        # and every alarm message carries them, ARN or not.
        fingerprint=vendor_fingerprint(
            "cloudwatch", alarm.account_id or "", alarm.region or "", alarm.alarm_name
        ),
        generator_url=None,
        raw=raw,
    )


def parse_envelope(payload: Any) -> SubscriptionConfirmation | list[Alert]:
    """An SNS delivery: a confirmation request, or the alarm(s) it carries.

    An UnsubscribeConfirmation carries nothing to do and parses to no alerts. A
    SubscribeURL that is not an SNS https URL is rejected here, so the server can never be
    steered into fetching an arbitrary URL.
    """
    payload = require_object(payload, "an SNS")
    if "Type" not in payload and "AlarmName" in payload:
        return [_alarm_alert(payload, "payload", None, payload)]
    try:
        envelope = _Envelope.model_validate(payload)
    except ValidationError as exc:
        raise AlertParseError(f"not an SNS message: {first_error(exc)}") from exc
    if envelope.type == "SubscriptionConfirmation":
        if not envelope.subscribe_url or not _is_sns_https_url(envelope.subscribe_url):
            raise AlertParseError("SubscribeURL: missing, or not an https URL on an SNS host")
        return SubscriptionConfirmation(envelope.subscribe_url, envelope.topic_arn)
    if envelope.type == "UnsubscribeConfirmation":
        return []
    if envelope.type != "Notification":
        raise AlertParseError(
            f"Type: {envelope.type!r} is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation"
        )
    try:
        alarm_json = json.loads(envelope.message)
    except json.JSONDecodeError as exc:
        raise AlertParseError(
            f"Message: not JSON, so not a CloudWatch alarm ({exc.msg} at column {exc.colno})"
        ) from exc
    return [_alarm_alert(alarm_json, "Message", envelope, payload)]


def parse_webhook(payload: Any) -> list[Alert]:
    """The alerts of an SNS delivery, for the registry's one-signature-fits-all table.

    Confirmations parse to no alerts here; the server must use parse_envelope on this
    route to see them, or SNS never starts sending.
    """
    result = parse_envelope(payload)
    return [] if isinstance(result, SubscriptionConfirmation) else result


def string_to_sign(envelope: dict[str, Any]) -> bytes | None:
    """SNS's documented string to sign: each signed field's name and value, one per line,
    in byte order of the names; Subject only when present. None if a field is missing."""
    fields = _SIGNED_FIELDS.get(str(envelope.get("Type")))
    if fields is None:
        return None
    lines: list[str] = []
    for key in fields:
        value = envelope.get(key)
        if key == "Subject" and value is None:
            continue
        if not isinstance(value, str):
            return None
        lines += [key, value]
    return ("\n".join(lines) + "\n").encode("utf-8")


def verify_sns_signature(envelope: dict[str, Any], certificate_pem: bytes) -> bool:
    """Check an SNS message's Signature with the certificate from its SigningCertURL.

    SignatureVersion 1 is RSA PKCS#1 v1.5 over SHA-1, version 2 over SHA-256. Any
    malformed part (unknown type or version, bad base64, a certificate that does not load
    or is not RSA) fails the check rather than raising. Whether the certificate is SNS's is
    settled by where it was fetched from: see signing_cert_url_is_trusted.
    """
    if not isinstance(envelope, dict):
        return False
    algorithm = _HASHES.get(str(envelope.get("SignatureVersion")))
    message = string_to_sign(envelope)
    signature_b64 = envelope.get("Signature")
    if algorithm is None or message is None or not isinstance(signature_b64, str):
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        key = certificate.public_key()
    except (binascii.Error, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, message, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        return False
    return True
