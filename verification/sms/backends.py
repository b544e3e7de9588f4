import json
import logging
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from verification.sms import SmsGatewayError, SmsMessage, SmsRejected, SmsResult, outbox

logger = logging.getLogger(__name__)

CONSOLE_KEEP = 50


class LocmemBackend:
    """Tests: keeps messages in verification.sms.outbox."""

    def send(self, message: SmsMessage, *, status_callback: str = "") -> SmsResult:
        outbox.append(message)
        return SmsResult(provider_id=f"locmem-{uuid.uuid4().hex[:12]}", status="sent")


class ConsoleBackend:
    """Development: prints the message and keeps the last ones for the /dev/sms/ page."""

    def send(self, message: SmsMessage, *, status_callback: str = "") -> SmsResult:
        sys.stdout.write(f"\n----- SMS to {message.to} -----\n{message.body}\n{'-' * 40}\n")
        sys.stdout.flush()
        path = Path(settings.SMS_CONSOLE_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        lines.append(json.dumps({"to": message.to, "body": message.body}, ensure_ascii=False))
        path.write_text("\n".join(lines[-CONSOLE_KEEP:]) + "\n", encoding="utf-8")
        return SmsResult(provider_id=f"console-{uuid.uuid4().hex[:12]}", status="sent")


def console_messages() -> list[dict]:
    """Newest first; read by the DEBUG-only page."""
    path = Path(settings.SMS_CONSOLE_FILE)
    if not path.exists():
        return []
    return [json.loads(line) for line in reversed(path.read_text(encoding="utf-8").splitlines()) if line]


class TwilioBackend:
    """Twilio Programmable Messaging through the official SDK.

    TWILIO_API_BASE_URL points the SDK at a Twilio-compatible gateway (used by tests);
    production leaves it empty and talks to api.twilio.com.
    """

    def __init__(self) -> None:
        from twilio.rest import Client

        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        if settings.TWILIO_API_BASE_URL:
            self.client.api.base_url = settings.TWILIO_API_BASE_URL.rstrip("/")

    def send(self, message: SmsMessage, *, status_callback: str = "") -> SmsResult:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs = {"to": message.to, "body": message.body}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            kwargs["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            kwargs["from_"] = settings.TWILIO_FROM_NUMBER
        # Delivery reports come back to our callback view; its URL is built from SITE_URL,
        # never from a request's Host header.
        kwargs["status_callback"] = status_callback or settings.SITE_URL + reverse("verification:twilio_status")
        try:
            sent = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            # 4xx other than 429 is about the message itself (bad number, blocked): final.
            if 400 <= exc.status < 500 and exc.status != 429:
                raise SmsRejected(f"twilio {exc.status} {exc.code}") from exc
            raise SmsGatewayError(f"twilio {exc.status} {exc.code}") from exc
        except (TwilioException, OSError) as exc:
            raise SmsGatewayError(f"twilio: {type(exc).__name__}") from exc
        status = "failed" if sent.status in ("failed", "undelivered") else "sent"
        return SmsResult(provider_id=sent.sid or "", status=status)
