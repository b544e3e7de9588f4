"""Celery tasks: take ids, call one service. Each is safe to run twice (acks_late)."""

import logging

from celery import shared_task

from verification import services
from verification.sms import SmsGatewayError, SmsRejected

logger = logging.getLogger(__name__)

MAX_RETRIES = 5


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def code_send(self, code_id: int) -> None:
    try:
        services.code_deliver(code_id=code_id)
    except SmsRejected as exc:
        services.code_delivery_failed(code_id=code_id, error=str(exc))
    except (SmsGatewayError, OSError) as exc:
        # OSError covers SMTP connection failures.
        if self.request.retries >= self.max_retries:
            services.code_delivery_failed(code_id=code_id, error=f"{type(exc).__name__}: {exc}")
            return
        countdown = min(2 ** (self.request.retries + 1), 60)  # 2, 4, 8, 16, 32 s
        logger.warning("delivery of code %s failed (%s); retry in %ss", code_id, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(acks_late=True)
def registrations_purge() -> int:
    return services.registrations_purge()
