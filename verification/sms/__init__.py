"""Pluggable SMS sending, chosen by settings.SMS_BACKEND (like Django's EMAIL_BACKEND)."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

# Messages sent through the locmem backend, like django.core.mail.outbox.
outbox: list["SmsMessage"] = []


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


@dataclass(frozen=True)
class SmsResult:
    provider_id: str
    status: str  # DeliveryStatus value


class SmsGatewayError(Exception):
    """A transient failure: the message may go through on a later try."""


class SmsRejected(Exception):
    """A permanent failure: retrying the same message will not help."""


def get_backend():
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, to: str, body: str, status_callback: str = "") -> SmsResult:
    return get_backend().send(SmsMessage(to=to, body=body), status_callback=status_callback)
