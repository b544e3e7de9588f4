"""Celery tasks: idempotent, sent only after commit, retried on transient failures, purging."""

import datetime as dt
from http import HTTPStatus

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from tests.factories import UserFactory
from verification import services, tasks
from verification.models import Delivery, DeliveryStatus, OneTimeCode, Purpose, Recovery, Registration
from verification.sms import SmsGatewayError, SmsRejected

pytestmark = pytest.mark.django_db

BACKEND_ERRORS: list[Exception] = []


class FailingSmsBackend:
    """Raises the errors queued in BACKEND_ERRORS, one per send."""

    def send(self, message, *, status_callback: str = ""):
        raise BACKEND_ERRORS.pop(0)


class DownEmailBackend:
    """An SMTP server that refuses connections."""

    def __init__(self, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


def start(phone: str = "+79123456789", email: str = "") -> Registration:
    return services.registration_start(
        surname="Петров", first_name="Пётр", region="77", phone=phone, email=email, ip="10.0.0.1", language="ru"
    )


@pytest.fixture
def queued_code(django_capture_on_commit_callbacks):
    """A registration whose code is queued but not yet sent (the task has not run)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        registration = start()
    assert len(callbacks) == 1
    return OneTimeCode.objects.get(flow_id=registration.pk)


# --- Idempotency ---------------------------------------------------------------------------


def test_code_send_twice_sends_one_message(queued_code, sms_outbox, last_sms_code):
    tasks.code_send.delay(queued_code.pk)
    tasks.code_send.delay(queued_code.pk)  # a redelivered message (acks_late)

    assert len(sms_outbox) == 1
    assert Delivery.objects.count() == 1
    queued_code.refresh_from_db()
    assert queued_code.sent_at is not None
    # The code that went out is still the one that works.
    registration = Registration.objects.get()
    services.registration_code_confirm(registration=registration, code=last_sms_code())
    registration.refresh_from_db()
    assert registration.phone_confirmed_at is not None


def test_email_code_send_twice_sends_one_letter(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        registration = start(phone="", email="petrov@example.ru")
    code = OneTimeCode.objects.get(flow_id=registration.pk)

    tasks.code_send.delay(code.pk)
    tasks.code_send.delay(code.pk)

    assert len(mail.outbox) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_notice_send_twice_sends_one_notice(django_capture_on_commit_callbacks, sms_outbox):
    UserFactory(phone="+79123456789")
    with django_capture_on_commit_callbacks(execute=False):
        registration = start()
    code = OneTimeCode.objects.get(flow_id=registration.pk)

    tasks.code_send.delay(code.pk)
    tasks.code_send.delay(code.pk)

    assert len(sms_outbox) == 1
    assert Delivery.objects.get().kind == "account_exists"


def test_revoked_code_is_not_sent(settings, django_capture_on_commit_callbacks, sms_outbox, last_sms_code):
    """The person pressed «send a new code» while the first one was still in the queue."""
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        registration = start()
        services.registration_code_resend(registration=registration)
    first, second = OneTimeCode.objects.order_by("pk")
    assert first.revoked_at is not None

    for callback in callbacks:
        callback()

    assert len(sms_outbox) == 1
    assert [d.code_id for d in Delivery.objects.all()] == [second.pk]
    services.registration_code_confirm(registration=registration, code=last_sms_code())


def test_code_expired_in_the_queue_is_not_sent(queued_code, sms_outbox):
    OneTimeCode.objects.filter(pk=queued_code.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    tasks.code_send.delay(queued_code.pk)

    assert sms_outbox == []
    assert not Delivery.objects.exists()
    queued_code.refresh_from_db()
    assert queued_code.sent_at is None


def test_code_purged_before_the_task_runs_is_skipped(queued_code, sms_outbox):
    OneTimeCode.objects.filter(pk=queued_code.pk).delete()

    tasks.code_send.delay(queued_code.pk)

    assert sms_outbox == []


# --- Only after commit --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_when_the_transaction_rolls_back(sms_outbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        start()
        raise RuntimeError("the request failed after the registration was created")

    assert sms_outbox == []
    assert not Registration.objects.exists()
    assert not OneTimeCode.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_code_is_sent_once_the_transaction_commits(sms_outbox):
    with transaction.atomic():
        start()
        assert sms_outbox == []  # still inside the transaction: the worker could not see the row

    assert len(sms_outbox) == 1


# --- Retries --------------------------------------------------------------------------------


@pytest.fixture
def failing_sms(settings):
    settings.SMS_BACKEND = "tests.verification.test_tasks.FailingSmsBackend"
    BACKEND_ERRORS.clear()
    yield BACKEND_ERRORS
    BACKEND_ERRORS.clear()


@pytest.mark.parametrize(("retries", "countdown"), [(0, 2), (1, 4), (2, 8), (3, 16), (4, 32)])
def test_gateway_error_asks_for_a_retry_with_backoff(queued_code, failing_sms, retries, countdown):
    failing_sms.append(SmsGatewayError("twilio 503"))

    with pytest.raises(Retry) as retry:
        tasks.code_send.apply(args=[queued_code.pk], retries=retries, throw=True)

    assert retry.value.when == countdown
    queued_code.refresh_from_db()
    assert queued_code.delivery_failed_at is None
    assert not Delivery.objects.exists()


def test_last_try_records_the_failure_instead_of_retrying(queued_code, failing_sms):
    failing_sms.append(SmsGatewayError("twilio 503"))

    tasks.code_send.apply(args=[queued_code.pk], retries=tasks.MAX_RETRIES, throw=True)

    queued_code.refresh_from_db()
    assert queued_code.delivery_failed_at is not None
    assert queued_code.sent_at is None
    failed = Delivery.objects.get()
    assert failed.status == DeliveryStatus.FAILED
    assert "twilio 503" in failed.error


def test_rejected_message_is_recorded_at_once(queued_code, failing_sms):
    failing_sms.append(SmsRejected("twilio 400 21211"))

    tasks.code_send.apply(args=[queued_code.pk], throw=True)

    queued_code.refresh_from_db()
    assert queued_code.delivery_failed_at is not None
    assert Delivery.objects.get().error == "twilio 400 21211"


def test_retry_after_a_failure_sends_a_working_code(queued_code, failing_sms, settings, sms_outbox, last_sms_code):
    failing_sms.append(SmsGatewayError("twilio 503"))
    with pytest.raises(Retry):
        tasks.code_send.apply(args=[queued_code.pk], throw=True)
    settings.SMS_BACKEND = "verification.sms.backends.LocmemBackend"

    tasks.code_send.apply(args=[queued_code.pk], retries=1, throw=True)

    assert len(sms_outbox) == 1
    services.registration_code_confirm(registration=Registration.objects.get(), code=last_sms_code())


def test_smtp_down_is_retried_like_a_gateway_error(settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        registration = start(phone="", email="petrov@example.ru")
    code = OneTimeCode.objects.get(flow_id=registration.pk)
    settings.EMAIL_BACKEND = "tests.verification.test_tasks.DownEmailBackend"

    with pytest.raises(Retry):
        tasks.code_send.apply(args=[code.pk], throw=True)
    tasks.code_send.apply(args=[code.pk], retries=tasks.MAX_RETRIES, throw=True)

    code.refresh_from_db()
    assert code.delivery_failed_at is not None
    assert Delivery.objects.get().status == DeliveryStatus.FAILED


# --- Purge ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_registrations_purge_deletes_abandoned_flows_and_keeps_live_ones(sms_outbox):
    stale = start(phone="+79123456781")
    live = start(phone="+79123456782")
    finished_long_ago = start(phone="+79123456783")
    old_recovery = services.recovery_start(contact="+79123456784", ip="10.0.0.1", language="ru")
    live_recovery = services.recovery_start(contact="+79123456785", ip="10.0.0.1", language="ru")
    long_ago = timezone.now() - dt.timedelta(seconds=settings.VERIFICATION_REGISTRATION_TTL + 3600)
    Registration.objects.filter(pk__in=[stale.pk, finished_long_ago.pk]).update(created_at=long_ago)
    Registration.objects.filter(pk=finished_long_ago.pk).update(completed_at=long_ago)
    Recovery.objects.filter(pk=old_recovery.pk).update(created_at=long_ago)
    OneTimeCode.objects.filter(flow_id__in=[stale.pk, finished_long_ago.pk, old_recovery.pk]).update(
        created_at=long_ago, expires_at=long_ago + dt.timedelta(minutes=5)
    )

    purged = tasks.registrations_purge.delay().get()

    assert purged == 2
    assert set(Registration.objects.values_list("pk", flat=True)) == {live.pk}
    assert set(Recovery.objects.values_list("pk", flat=True)) == {live_recovery.pk}
    assert set(OneTimeCode.objects.values_list("flow_id", flat=True)) == {live.pk, live_recovery.pk}
    # What was sent stays recorded for support, without the purged codes.
    assert Delivery.objects.count() == 5
    assert Delivery.objects.filter(code__isnull=True).count() == 3
    assert OneTimeCode.objects.filter(purpose=Purpose.RECOVERY).count() == 1


def test_registrations_purge_with_nothing_to_do_returns_zero():
    live = start()

    assert tasks.registrations_purge.delay().get() == 0
    assert Registration.objects.get() == live


def test_beat_schedule_runs_registered_tasks():
    celery_app.loader.import_default_modules()

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks


@pytest.mark.django_db(transaction=True)
def test_broker_outage_is_recorded_and_the_person_still_gets_the_code_page(client, monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.code_send, "delay", broker_down)

    response = client.post(
        reverse("verification:registration_start"),
        {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": "+79123456789", "email": ""},
    )

    assert response.status_code == HTTPStatus.FOUND
    code = OneTimeCode.objects.get()
    assert code.delivery_failed_at is not None
    page = client.get(reverse("verification:registration_code"))
    assert "Не удалось доставить сообщение" in page.content.decode()
