"""Email over SMTP (stdlib smtplib, run in a thread so the event loop stays free).

Each event's Message-ID is derived from its event id, so a retried send carries the same
id and mail systems can drop the duplicate; later mails reply to the first one, which
threads them in most clients.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from firstline.notify.base import (
    DeliveryContext,
    Notification,
    PermanentDeliveryError,
    SettingsNotifier,
    TemporaryDeliveryError,
)
from firstline.notify.content import incident_link
from firstline.notify.settings import EmailSettings
from firstline.notify.trace import note_status


def message_id(event_id: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "firstline"
    return f"<{hashlib.sha256(event_id.encode()).hexdigest()[:32]}@{domain}>"


class EmailNotifier(SettingsNotifier[EmailSettings]):
    name = "email"

    @staticmethod
    def misconfiguration(settings: EmailSettings) -> str | None:
        return "email needs a host and at least one recipient" if not settings.enabled else None

    def compose(self, notification: Notification, context: DeliveryContext) -> EmailMessage:
        settings = self.settings
        mail = EmailMessage()
        mail["From"] = settings.sender
        mail["To"] = ", ".join(settings.recipients)
        mail["Subject"] = f"[firstline {notification.severity.upper()}] {notification.title}"
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = message_id(context.event_id, settings.sender)
        mail["X-Firstline-Incident"] = notification.incident_id
        first = next((r["message_id"] for r in context.receipts if "message_id" in r), None)
        if first:
            mail["In-Reply-To"] = first
            mail["References"] = first
        link = incident_link(self.public_url, notification.incident_id)
        mail.set_content(notification.body + (f"\n\n{link}\n" if link else "\n"))
        return mail

    def _send_blocking(self, mail: EmailMessage) -> None:
        s = self.settings
        assert s.host is not None
        smtp: smtplib.SMTP
        if s.ssl:
            smtp = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout_seconds, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        with smtp:
            if s.starttls and not s.ssl:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
            smtp.send_message(mail)

    async def deliver(self, notification: Notification, context: DeliveryContext) -> dict[str, str]:
        mail = self.compose(notification, context)
        try:
            await asyncio.to_thread(self._send_blocking, mail)
        except smtplib.SMTPResponseException as exc:  # the server answered with a code
            note_status(exc.smtp_code)
            text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise TemporaryDeliveryError(text) from exc
            raise PermanentDeliveryError(text) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            error = (
                TemporaryDeliveryError
                if all(400 <= c < 500 for c in codes)
                else (PermanentDeliveryError)
            )
            raise error(f"recipients refused: {exc.recipients}") from exc
        except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeouts, TLS
            raise TemporaryDeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from exc
        return {"message_id": str(mail["Message-ID"])}
