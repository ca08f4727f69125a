"""CloudWatch alarms over SNS: envelopes, confirmations and alarm messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from firstline.domain.alert import AlertStatus
from firstline.intake.cloudwatch import (
    SubscriptionConfirmation,
    parse_envelope,
    parse_webhook,
    signing_cert_url_is_trusted,
)
from firstline.intake.errors import AlertParseError

TOPIC = "arn:aws:sns:eu-west-1:210987654321:firstline-alarms"


def _alarm(state: str = "ALARM", **overrides: Any) -> dict[str, Any]:
    alarm: dict[str, Any] = {
        "AlarmName": "orders-queue-backlog",
        "AlarmDescription": "Orders are waiting longer than the SLO allows",
        "AWSAccountId": "210987654321",
        "AlarmConfigurationUpdatedTimestamp": "2026-02-20T09:00:00.000+0000",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (500.0).",
        "StateChangeTime": "2026-03-04T14:07:00.000+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:210987654321:alarm:orders-queue-backlog",
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "OKActions": [TOPIC],
        "AlarmActions": [TOPIC],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "StatisticType": "Statistic",
            "Statistic": "MAXIMUM",
            "Unit": None,
            "Dimensions": [{"value": "orders", "name": "QueueName"}],
            "Period": 60,
            "EvaluationPeriods": 3,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 500.0,
            "TreatMissingData": "missing",
        },
    }
    alarm.update(overrides)
    return alarm


def _notification(alarm: dict[str, Any] | str, **overrides: Any) -> dict[str, Any]:
    message = alarm if isinstance(alarm, str) else json.dumps(alarm)
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": "5f0c2a4e-9c1d-5d7b-a3e9-2b8f7c1e6d40",
        "TopicArn": TOPIC,
        "Subject": 'ALARM: "orders-queue-backlog" in EU (Ireland)',
        "Message": message,
        "Timestamp": "2026-03-04T14:07:00.512Z",
        "SignatureVersion": "2",
        "Signature": "c2lnbmF0dXJl",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
        "UnsubscribeURL": f"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1c2d",
    }
    envelope.update(overrides)
    return envelope


def _confirmation(**overrides: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e2425a8a58",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": f"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f",
        "Timestamp": "2026-03-04T13:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "c2lnbmF0dXJl",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
    }
    envelope.update(overrides)
    return envelope


def test_alarm_notification_is_normalised() -> None:
    envelope = _notification(_alarm())
    [alert] = parse_webhook(envelope)
    assert alert.source == "cloudwatch"
    assert alert.name == "orders-queue-backlog"
    assert alert.status is AlertStatus.FIRING
    assert alert.starts_at == datetime(2026, 3, 4, 14, 7, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.labels == {
        "alertname": "orders-queue-backlog",
        "QueueName": "orders",
        "aws_account_id": "210987654321",
        "region": "eu-west-1",
        "metric_namespace": "AWS/SQS",
        "metric_name": "ApproximateNumberOfMessagesVisible",
    }
    assert alert.namespace is None, "AWS/SQS is not a Kubernetes namespace"
    assert alert.annotations["summary"] == 'ALARM: "orders-queue-backlog" in EU (Ireland)'
    assert alert.annotations["description"] == "Orders are waiting longer than the SLO allows"
    assert alert.annotations["threshold"] == "MAXIMUM GreaterThanThreshold 500.0"
    assert alert.annotations["region_name"] == "EU (Ireland)"
    assert alert.raw == envelope, "the envelope is kept as received, Message string and all"


def test_ok_resolves_and_insufficient_data_fires() -> None:
    [fired] = parse_webhook(_notification(_alarm()))
    [ok] = parse_webhook(
        _notification(_alarm("OK", StateChangeTime="2026-03-04T14:31:00.000+0000"))
    )
    assert ok.status is AlertStatus.RESOLVED
    assert ok.ends_at == datetime(2026, 3, 4, 14, 31, tzinfo=UTC)
    assert ok.fingerprint == fired.fingerprint
    [nodata] = parse_webhook(_notification(_alarm("INSUFFICIENT_DATA")))
    assert nodata.status is AlertStatus.FIRING
    assert nodata.fingerprint == fired.fingerprint


def test_fingerprint_is_account_region_and_name() -> None:
    base = parse_webhook(_notification(_alarm()))[0].fingerprint
    no_arn = _alarm()
    del no_arn["AlarmArn"]
    assert parse_webhook(_notification(no_arn))[0].fingerprint == base
    assert parse_webhook(_notification(_alarm(AWSAccountId="1")))[0].fingerprint != base
    assert parse_webhook(_notification(_alarm(Region="US East (Ohio)")))[0].fingerprint != base
    assert parse_webhook(_notification(_alarm(AlarmName="other")))[0].fingerprint != base


def test_composite_and_metric_math_alarms_need_no_trigger_metric() -> None:
    composite = _alarm(Trigger=None, AlarmRule='ALARM("a") AND ALARM("b")')
    assert parse_webhook(_notification(composite))[0].labels["region"] == "eu-west-1"
    math = _alarm(Trigger={"Metrics": [{"Id": "m1", "Expression": "a+b"}], "Period": 60})
    assert "metric_name" not in parse_webhook(_notification(math))[0].labels


def test_raw_message_delivery_is_the_alarm_alone() -> None:
    alarm = _alarm()
    [alert] = parse_webhook(alarm)
    assert alert.name == "orders-queue-backlog"
    assert alert.raw == alarm


def test_subscription_confirmation() -> None:
    result = parse_envelope(_confirmation())
    assert result == SubscriptionConfirmation(
        subscribe_url=f"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f",
        topic_arn=TOPIC,
    )
    assert parse_webhook(_confirmation()) == [], "the plain parser has no alerts for it"


def test_unsubscribe_confirmation_carries_nothing() -> None:
    assert parse_envelope(_confirmation(Type="UnsubscribeConfirmation")) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
        "https://sns.eu-west-1.amazonaws.com.evil.example/?Action=ConfirmSubscription",
        "https://evil.example/?Action=ConfirmSubscription",
        "https://sns.eu-west-1.amazonaws.com@evil.example/",
        "https://user:pw@sns.eu-west-1.amazonaws.com/",
        "https://169.254.169.254/latest/meta-data/",
        "not a url",
    ],
)
def test_a_subscribe_url_off_sns_is_refused(url: str) -> None:
    with pytest.raises(AlertParseError, match=r"^SubscribeURL: "):
        parse_envelope(_confirmation(SubscribeURL=url))


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", True),
        ("https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-abc.pem", True),
        ("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", False),
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.crt", False),
        ("https://sns.us-east-1.amazonaws.com.evil.example/cert.pem", False),
        ("https://evil.example/sns.us-east-1.amazonaws.com/cert.pem", False),
        ("https://sns.us-east-1.amazonaws.com@evil.example/cert.pem", False),
        ("https://s3.amazonaws.com/sns/cert.pem", False),
        ("https://sns.us-east-1.amazonaws.com:8443/cert.pem", False),
        ("https://sns.us-east-1.amazonaws.com:notaport/cert.pem", False),
        ("", False),
    ],
)
def test_signing_cert_url_trust(url: str, trusted: bool) -> None:
    assert signing_cert_url_is_trusted(url) is trusted


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([_notification(_alarm())], r"must be a JSON object, not an array"),
        ("Notification", r"not a string"),
        ({"Type": "Notification"}, r"^not an SNS message: MessageId: Field required"),
        (_notification(_alarm(), Type="Surprise"), r"^Type: 'Surprise' is not"),
        (_notification(_alarm(), Message=7), r"Message: Input should be a valid string"),
        (_notification("Hello from a shell script"), r"^Message: not JSON"),
        (_notification("[1, 2]"), r"^Message: a CloudWatch alarm must be a JSON object"),
        (_notification({"Hello": "world"}), r"Message\.AlarmName: Field required"),
        (_notification(_alarm(AlarmName="")), r"Message\.AlarmName"),
        (_notification(_alarm(NewStateValue="BROKEN")), r"^Message\.NewStateValue: 'BROKEN'"),
        (_notification(_alarm(StateChangeTime="noon")), r"^Message\.StateChangeTime: "),
        (
            _notification(_alarm(Trigger={"Dimensions": [{"name": "QueueName"}]})),
            r"Message\.Trigger\.Dimensions\.0\.value",
        ),
        (
            _notification(
                _alarm(
                    Trigger={"Dimensions": [{"name": f"d{i}", "value": "v"} for i in range(200)]}
                )
            ),
            r"labels, more than the 128",
        ),
        (_confirmation(SubscribeURL=None), r"^SubscribeURL: "),
        (_alarm(NewStateValue=None), r"payload\.NewStateValue"),
    ],
)
def test_bad_payloads_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(AlertParseError, match=message):
        parse_envelope(payload)
