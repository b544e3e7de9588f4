"""Rules of registration, one-time codes and access recovery (verification.services)."""

import datetime as dt
import re
import threading
from http import HTTPStatus
from unittest import mock
from urllib.parse import urlparse

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Tier, TierChange, User
from tests.factories import UserFactory
from verification import codes, services
from verification.conf import app_settings
from verification.models import Delivery, Notice, OneTimeCode, Purpose, Recovery, Registration
from verification.services import FlowError, Step

PHONE = "+79123456789"
PASSWORD = "Sunny-Meadow-914"

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Call a service and run what it queued after commit, as the worker would."""

    def _call(service, /, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return _call


@pytest.fixture
def start(deliver):
    def _start(**overrides) -> Registration:
        data = {
            "surname": "Петров",
            "first_name": "Пётр",
            "region": "77",
            "phone": PHONE,
            "email": "",
            "ip": "10.0.0.1",
            "language": "ru",
        }
        data.update(overrides)
        return deliver(services.registration_start, **data)

    return _start


def _current_code(flow) -> OneTimeCode:
    return OneTimeCode.objects.filter(flow_id=flow.pk, revoked_at__isnull=True).get()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _age_current_code(flow, seconds: int) -> None:
    """Move the current code into the past, as if `seconds` had gone by since it was sent."""
    code = _current_code(flow)
    OneTimeCode.objects.filter(pk=code.pk).update(
        created_at=code.created_at - dt.timedelta(seconds=seconds),
        expires_at=code.expires_at - dt.timedelta(seconds=seconds),
    )


def _confirm(registration: Registration, code: str) -> Registration:
    return services.registration_code_confirm(registration=registration, code=code)


def _set_password(deliver, registration: Registration, password: str = PASSWORD) -> Registration:
    return deliver(
        services.registration_password_set, registration=registration, password=password, password_confirm=password
    )


# --- Codes: expiry, attempts, single use ---------------------------------------------------


def test_confirm_accepts_the_code_from_the_sms(start, last_sms_code, sms_outbox):
    registration = start()
    assert [m.to for m in sms_outbox] == [PHONE]
    registration = _confirm(registration, last_sms_code())
    assert registration.phone_confirmed_at is not None
    assert services.registration_next_step(registration) == Step.PASSWORD


def test_confirm_accepts_a_code_typed_with_spaces_or_a_dash(start, last_sms_code):
    registration = start()
    code = last_sms_code()
    registration = _confirm(registration, f" {code[:3]} - {code[3:]} ")
    assert registration.phone_confirmed_at is not None


def test_confirm_rejects_expired_code(start, last_sms_code):
    registration = start()
    code = last_sms_code()
    _age_current_code(registration, app_settings.CODE_TTL)
    with pytest.raises(FlowError) as excinfo:
        _confirm(registration, code)
    assert excinfo.value.code == "code_expired"
    assert Registration.objects.get(pk=registration.pk).phone_confirmed_at is None


def test_code_is_valid_for_five_minutes_and_no_longer(start, last_sms_code):
    registration = start()
    code = last_sms_code()
    sent_at = _current_code(registration).created_at
    assert _current_code(registration).expires_at == sent_at + dt.timedelta(minutes=5)
    with mock.patch("django.utils.timezone.now", return_value=sent_at + dt.timedelta(minutes=5, seconds=1)):
        with pytest.raises(FlowError) as excinfo:
            _confirm(registration, code)
    assert excinfo.value.code == "code_expired"
    with mock.patch("django.utils.timezone.now", return_value=sent_at + dt.timedelta(minutes=4, seconds=59)):
        assert _confirm(registration, code).phone_confirmed_at is not None


def test_wrong_code_says_how_many_attempts_are_left(start, last_sms_code):
    registration = start()
    wrong = _wrong(last_sms_code())
    for expected_left in (4, 3, 2, 1):
        with pytest.raises(FlowError) as excinfo:
            _confirm(registration, wrong)
        assert excinfo.value.code == "code_invalid"
        assert excinfo.value.attempts_left == expected_left
        assert excinfo.value.field == "code"
        assert str(expected_left) in excinfo.value.message
    assert _current_code(registration).attempts == 4


def test_fifth_wrong_code_exhausts_it_and_then_even_the_right_code_is_refused(start, last_sms_code):
    registration = start()
    right = last_sms_code()
    for _ in range(4):
        with pytest.raises(FlowError):
            _confirm(registration, _wrong(right))
    with pytest.raises(FlowError) as fifth:
        _confirm(registration, _wrong(right))
    assert fifth.value.code == "too_many_attempts"
    assert fifth.value.attempts_left == 0
    with pytest.raises(FlowError) as right_after:
        _confirm(registration, right)
    assert right_after.value.code == "too_many_attempts"
    assert _current_code(registration).attempts == app_settings.CODE_MAX_ATTEMPTS
    assert Registration.objects.get(pk=registration.pk).phone_confirmed_at is None


def test_code_of_wrong_length_is_refused_without_spending_an_attempt(start):
    registration = start()
    with pytest.raises(FlowError) as excinfo:
        _confirm(registration, "12345")
    assert excinfo.value.code == "code_format"
    assert _current_code(registration).attempts == 0


def test_code_can_be_used_only_once(start, last_sms_code):
    registration = start()
    code = last_sms_code()
    services.code_verify(purpose=Purpose.REGISTRATION, flow_id=registration.pk, code_input=code)
    with pytest.raises(FlowError) as excinfo:
        services.code_verify(purpose=Purpose.REGISTRATION, flow_id=registration.pk, code_input=code)
    assert excinfo.value.code == "code_used"


def test_code_of_one_registration_does_not_confirm_another(start, last_sms_code):
    first = start(phone="+79123456789")
    first_code = last_sms_code()
    second = start(phone="+79161234567")
    second_code = last_sms_code()
    assert first_code != second_code  # a one-in-a-million coincidence would make this test meaningless
    with pytest.raises(FlowError) as excinfo:
        _confirm(second, first_code)
    assert excinfo.value.code == "code_invalid"
    assert _confirm(second, second_code).phone_confirmed_at is not None
    assert Registration.objects.get(pk=first.pk).phone_confirmed_at is None


def test_code_is_stored_only_as_a_salted_hmac(start, last_sms_code):
    registration = start()
    code = last_sms_code()
    row = OneTimeCode.objects.filter(flow_id=registration.pk).values().get()
    assert all(code not in str(value) for value in row.values())
    assert row["salt"]
    assert row["code_hmac"] == codes.code_digest(salt=row["salt"], code=code)
    assert row["code_hmac"] != codes.code_digest(salt="other-salt", code=code)


def test_code_is_compared_in_constant_time(start, last_sms_code):
    registration = start()
    code = last_sms_code()
    with mock.patch("verification.codes.constant_time_compare", wraps=codes.constant_time_compare) as compare:
        with pytest.raises(FlowError):
            _confirm(registration, _wrong(code))
        _confirm(registration, code)
    assert compare.call_count == 2
    stored = OneTimeCode.objects.get(flow_id=registration.pk).code_hmac
    assert all(stored in call.args for call in compare.call_args_list)


def test_code_matches_spends_an_hmac_even_without_a_stored_code():
    with mock.patch("verification.codes.constant_time_compare", return_value=True) as compare:
        assert codes.code_matches(salt="", digest="", code="123456") is False
    compare.assert_called_once()


# --- Resends and rate limits ----------------------------------------------------------------


def test_resend_within_cooldown_is_refused_with_retry_after(start, sms_outbox):
    registration = start()
    with pytest.raises(FlowError) as excinfo:
        services.registration_code_resend(registration=registration)
    assert excinfo.value.code == "too_many_attempts"
    assert 55 <= excinfo.value.retry_after <= 60
    assert len(sms_outbox) == 1


def test_resend_after_cooldown_sends_a_new_code_and_revokes_the_previous_one(start, deliver, last_sms_code, sms_outbox):
    registration = start()
    old_code = last_sms_code()
    old_row = _current_code(registration)
    _age_current_code(registration, app_settings.RESEND_COOLDOWN)
    deliver(services.registration_code_resend, registration=registration)
    new_code = last_sms_code()
    assert len(sms_outbox) == 2
    old_row.refresh_from_db()
    assert old_row.revoked_at is not None
    if old_code != new_code:  # the same six digits may come up again by chance
        with pytest.raises(FlowError) as excinfo:
            _confirm(registration, old_code)
        assert excinfo.value.code == "code_invalid"
    assert _confirm(registration, new_code).phone_confirmed_at is not None


def test_resend_cooldown_is_counted_from_the_last_code(start):
    registration = start()
    _age_current_code(registration, 59)
    with pytest.raises(FlowError) as excinfo:
        services.registration_code_resend(registration=registration)
    assert excinfo.value.retry_after == 1


def test_at_most_five_codes_per_contact_per_hour(start, deliver, sms_outbox):
    registrations = [start(ip=f"10.0.0.{n}") for n in range(5)]
    with pytest.raises(FlowError) as excinfo:
        start(ip="10.0.1.1")
    assert excinfo.value.code == "too_many_attempts"
    assert 0 < excinfo.value.retry_after <= 3600
    # The quota is per contact, whatever the flow: a resend is refused too.
    _age_current_code(registrations[0], app_settings.RESEND_COOLDOWN)
    with pytest.raises(FlowError) as resend:
        deliver(services.registration_code_resend, registration=registrations[0])
    assert resend.value.code == "too_many_attempts"
    assert len(sms_outbox) == 5
    assert Registration.objects.count() == 5
    # Another contact is not affected.
    start(phone="+79161234567", ip="10.0.1.2")
    assert len(sms_outbox) == 6


def test_starts_per_ip_are_limited(start):
    for n in range(app_settings.STARTS_PER_IP_PER_HOUR):
        start(phone="", email=f"person{n}@example.ru", ip="203.0.113.7")
    with pytest.raises(FlowError) as excinfo:
        start(phone="", email="one.more@example.ru", ip="203.0.113.7")
    assert excinfo.value.code == "too_many_attempts"
    assert excinfo.value.retry_after > 0
    assert len(mail.outbox) == app_settings.STARTS_PER_IP_PER_HOUR == 20
    start(phone="", email="one.more@example.ru", ip="203.0.113.8")
    assert len(mail.outbox) == 21


# --- Registration flows -----------------------------------------------------------------------


def test_phone_only_registration_creates_a_simplified_account(start, deliver, last_sms_code):
    registration = start(phone="8 (912) 345-67-89")
    assert registration.phone == PHONE
    registration = _confirm(registration, last_sms_code())
    registration = _set_password(deliver, registration)
    assert services.registration_next_step(registration) == Step.DONE
    user = User.objects.get()
    assert registration.user == user
    assert (user.surname, user.first_name, user.region) == ("Петров", "Пётр", "77")
    assert str(user.phone) == PHONE
    assert user.phone_confirmed
    assert user.email is None
    assert user.tier == Tier.SIMPLIFIED
    assert user.check_password(PASSWORD)
    assert Registration.objects.get(pk=registration.pk).password_hash == ""


def test_email_only_registration_creates_an_account(start, deliver, last_email_code, sms_outbox):
    registration = start(phone="", email="  Petr.Petrov@Example.RU ")
    assert registration.email == "petr.petrov@example.ru"
    assert sms_outbox == []
    assert mail.outbox[0].to == ["petr.petrov@example.ru"]
    assert services.registration_next_step(registration) == Step.EMAIL
    registration = _confirm(registration, last_email_code())
    assert services.registration_next_step(registration) == Step.PASSWORD
    registration = _set_password(deliver, registration)
    user = User.objects.get()
    assert user.email == "petr.petrov@example.ru"
    assert user.email_confirmed
    assert user.phone is None
    assert user.check_password(PASSWORD)


def test_phone_and_email_registration_asks_phone_code_then_password_then_email_code(
    start, deliver, last_sms_code, last_email_code
):
    registration = start(email="petr@example.ru")
    assert len(mail.outbox) == 0  # the email code comes after the password
    registration = _confirm(registration, last_sms_code())
    assert services.registration_next_step(registration) == Step.PASSWORD
    registration = _set_password(deliver, registration)
    assert services.registration_next_step(registration) == Step.EMAIL
    assert not User.objects.exists()
    assert mail.outbox[-1].to == ["petr@example.ru"]
    registration = _confirm(registration, last_email_code())
    assert services.registration_next_step(registration) == Step.DONE
    user = User.objects.get()
    assert (user.phone_confirmed, user.email_confirmed) == (True, True)
    assert str(user.phone) == PHONE
    assert user.email == "petr@example.ru"
    assert user.check_password(PASSWORD)


def test_email_link_confirms_the_registration(start, deliver, last_sms_code):
    registration = start(email="petr@example.ru")
    registration = _confirm(registration, last_sms_code())
    _set_password(deliver, registration)
    letter = mail.outbox[-1]
    link = re.search(r"http://testserver/\S+", letter.body).group(0)
    match = resolve(urlparse(link).path)
    assert match.view_name == "verification:registration_email_link"
    assert match.kwargs["flow_id"] == registration.pk
    assert link in letter.alternatives[0][0]  # the HTML part carries the same link
    registration = Registration.objects.get(pk=registration.pk)
    registration = _confirm(registration, match.kwargs["code"])
    assert registration.completed_at is not None
    assert User.objects.get().email_confirmed


def test_registration_expires_after_a_day(start):
    registration = start()
    assert services.registration_get(registration_id=registration.pk) == registration
    Registration.objects.filter(pk=registration.pk).update(
        created_at=registration.created_at - dt.timedelta(seconds=app_settings.REGISTRATION_TTL)
    )
    with pytest.raises(FlowError) as excinfo:
        services.registration_get(registration_id=registration.pk)
    assert excinfo.value.code == "registration_expired"


def test_unknown_registration_id_reads_as_expired():
    with pytest.raises(FlowError) as excinfo:
        services.registration_get(registration_id="00000000-0000-0000-0000-000000000000")
    assert excinfo.value.code == "registration_expired"


def test_purge_deletes_abandoned_registrations_and_recoveries_with_their_codes(start, deliver, last_sms_code):
    long_ago = timezone.now() - dt.timedelta(seconds=app_settings.REGISTRATION_TTL + 60)
    abandoned = start(phone="+79161234567")
    fresh = start(phone="+79167654321")
    finished = start(phone="+79031234567")
    finished = _set_password(deliver, _confirm(finished, last_sms_code()))
    owner = UserFactory()
    old_recovery = deliver(services.recovery_start, contact=owner.email, ip="10.0.0.9", language="ru")
    Registration.objects.filter(pk__in=[abandoned.pk, finished.pk]).update(created_at=long_ago)
    Registration.objects.filter(pk=finished.pk).update(completed_at=long_ago)
    Recovery.objects.filter(pk=old_recovery.pk).update(created_at=long_ago)
    OneTimeCode.objects.filter(flow_id__in=[abandoned.pk, old_recovery.pk]).update(
        created_at=long_ago, expires_at=long_ago + dt.timedelta(minutes=5)
    )

    assert services.registrations_purge() == 2

    assert list(Registration.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not Recovery.objects.exists()
    assert set(OneTimeCode.objects.values_list("flow_id", flat=True)) == {fresh.pk, finished.pk}
    assert User.objects.filter(pk=finished.user_id).exists()  # the account stays


def test_purge_keeps_delivery_records_for_the_retention_period_only(start):
    start(phone="+79161234567")
    old, recent = Delivery.objects.get(), Delivery.objects.get()
    recent.pk = None
    recent.save()
    Delivery.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=app_settings.DELIVERY_RETENTION_DAYS, minutes=1)
    )

    services.registrations_purge()

    assert list(Delivery.objects.values_list("pk", flat=True)) == [recent.pk]


# --- Passwords ------------------------------------------------------------------------------


@pytest.fixture
def at_password_step(start, last_sms_code):
    registration = start(surname="Петровский", first_name="Пётр", email="petr.petrovsky@example.ru")
    return _confirm(registration, last_sms_code())


@pytest.mark.parametrize(
    ("password", "error_code"),
    [
        ("Kx7-qzP", "password_too_short"),
        ("Kx7-qzP!" * 16 + "x", "password_too_long"),
        ("qwertyuiop", "password_too_common"),
        ("Петровский1", "password_too_similar"),
        ("petrovsky2024", "password_too_similar"),
        ("48151623429", "password_entirely_numeric"),
    ],
)
def test_password_rules(deliver, at_password_step, password, error_code):
    with pytest.raises(ValidationError) as excinfo:
        _set_password(deliver, at_password_step, password)
    codes_given = [error.code for error in excinfo.value.error_dict["password"]]
    assert error_code in codes_given
    assert Registration.objects.get(pk=at_password_step.pk).password_hash == ""


def test_too_long_password_is_refused_with_a_clear_message(deliver, at_password_step):
    assert len(PASSWORD * 8) == 128
    with pytest.raises(ValidationError) as excinfo:
        _set_password(deliver, at_password_step, PASSWORD * 8 + "x")
    assert "128" in " ".join(excinfo.value.message_dict["password"])
    registration = _set_password(deliver, at_password_step, PASSWORD * 8)  # 128 is still fine
    assert services.registration_next_step(registration) == Step.EMAIL


def test_password_confirmation_must_match(at_password_step):
    with pytest.raises(ValidationError) as excinfo:
        services.registration_password_set(
            registration=at_password_step, password=PASSWORD, password_confirm=PASSWORD + "!"
        )
    assert "password_confirm" in excinfo.value.error_dict


def test_password_is_hashed_exactly_once_per_registration(start, deliver, last_sms_code, last_email_code):
    with (
        mock.patch("verification.services.make_password", wraps=make_password) as hashed,
        mock.patch("accounts.services.make_password", wraps=make_password) as hashed_in_accounts,
    ):
        registration = _confirm(start(email="petr@example.ru"), last_sms_code())
        with pytest.raises(ValidationError):
            _set_password(deliver, registration, "short")
        registration = _set_password(deliver, registration)
        _confirm(registration, last_email_code())
    assert hashed.call_count == 1
    assert hashed_in_accounts.call_count == 0
    assert User.objects.get().check_password(PASSWORD)


def test_password_cannot_be_set_twice(deliver, at_password_step):
    registration = _set_password(deliver, at_password_step)
    with pytest.raises(FlowError) as excinfo:
        _set_password(deliver, registration, "Another-Meadow-915")
    assert excinfo.value.code == "wrong_step"


# --- Tier audit ------------------------------------------------------------------------------


def test_account_creation_writes_a_tier_audit_row(start, deliver, last_sms_code):
    registration = _set_password(deliver, _confirm(start(), last_sms_code()))
    change = TierChange.objects.get()
    assert change.user_id == registration.user_id
    assert (change.old_tier, change.new_tier) == ("", Tier.SIMPLIFIED)
    assert change.reason
    assert change.actor is None


def test_tier_change_writes_an_audit_row_with_actor_and_reason():
    user = UserFactory()
    staff = UserFactory(is_staff=True)
    account_services.user_tier_change(user=user, new_tier=Tier.STANDARD, reason="documents checked", actor=staff)
    user.refresh_from_db()
    assert user.tier == Tier.STANDARD
    change = TierChange.objects.get(user=user)
    assert (change.old_tier, change.new_tier, change.reason, change.actor) == (
        Tier.SIMPLIFIED,
        Tier.STANDARD,
        "documents checked",
        staff,
    )


def test_tier_change_to_the_same_tier_writes_nothing():
    user = UserFactory(tier=Tier.STANDARD)
    account_services.user_tier_change(user=user, new_tier=Tier.STANDARD, reason="no-op")
    assert not TierChange.objects.exists()


# --- Access recovery ----------------------------------------------------------------------------


def test_recovery_by_phone_sets_a_new_password(deliver, last_sms_code, sms_outbox):
    user = UserFactory(phone=PHONE)
    recovery = deliver(services.recovery_start, contact="8 912 345 67 89", ip="10.0.0.1", language="ru")
    assert recovery.user == user
    assert sms_outbox[-1].to == PHONE
    recovery = services.recovery_code_confirm(recovery=recovery, code=last_sms_code())
    assert recovery.verified_at is not None
    services.recovery_password_set(recovery=recovery, password="New-Meadow-915", password_confirm="New-Meadow-915")
    user.refresh_from_db()
    assert user.check_password("New-Meadow-915")
    assert not user.check_password("Correct-Horse-42")
    with pytest.raises(FlowError) as excinfo:
        services.recovery_get(recovery_id=recovery.pk)
    assert excinfo.value.code == "recovery_expired"  # a finished recovery cannot be replayed


def test_recovery_by_email_in_any_case_sets_a_new_password(deliver, last_email_code):
    user = UserFactory(email="ivan@example.ru")
    recovery = deliver(services.recovery_start, contact=" Ivan@EXAMPLE.ru ", ip="10.0.0.1", language="ru")
    assert recovery.user == user
    assert mail.outbox[-1].to == ["ivan@example.ru"]
    recovery = services.recovery_code_confirm(recovery=recovery, code=last_email_code())
    services.recovery_password_set(recovery=recovery, password="New-Meadow-915", password_confirm="New-Meadow-915")
    user.refresh_from_db()
    assert user.check_password("New-Meadow-915")


def test_recovery_needs_the_code_before_a_new_password(deliver):
    UserFactory(phone=PHONE)
    recovery = deliver(services.recovery_start, contact=PHONE, ip="10.0.0.1", language="ru")
    with pytest.raises(FlowError) as excinfo:
        services.recovery_password_set(recovery=recovery, password="New-Meadow-915", password_confirm="New-Meadow-915")
    assert excinfo.value.code == "wrong_step"


def test_recovery_for_unknown_contact_sends_a_no_account_notice_whose_code_never_confirms(deliver, sms_outbox):
    recovery = deliver(services.recovery_start, contact="+79161234567", ip="10.0.0.1", language="ru")
    assert recovery.user is None
    [sms] = sms_outbox
    assert sms.to == "+79161234567"
    assert "http://testserver" + reverse("verification:registration_start") in sms.body
    assert not re.search(r"\d{6}", sms.body.replace("+79161234567", ""))
    row = OneTimeCode.objects.get(flow_id=recovery.pk)
    assert (row.notice, row.code_hmac) == (Notice.UNKNOWN_ACCOUNT, "")
    # Not even a code that "matches" gets through.
    with mock.patch("verification.codes.code_matches", return_value=True):
        for guess in ("000000", "123456"):
            with pytest.raises(FlowError) as excinfo:
                services.recovery_code_confirm(recovery=recovery, code=guess)
            assert excinfo.value.code == "code_invalid"
    assert Recovery.objects.get(pk=recovery.pk).verified_at is None


def test_recovery_for_unknown_email_sends_a_no_account_letter(deliver):
    deliver(services.recovery_start, contact="nobody@example.ru", ip="10.0.0.1", language="en")
    [letter] = mail.outbox
    assert letter.to == ["nobody@example.ru"]
    assert "no account uses it" in letter.body
    assert "http://testserver" + reverse("verification:registration_start") in letter.body
    assert not re.search(r"\b\d{6}\b", letter.body)


def test_recovery_of_a_blocked_account_never_sends_a_code_even_on_resend(deliver, sms_outbox):
    UserFactory(phone=PHONE, is_active=False)
    recovery = deliver(services.recovery_start, contact=PHONE, ip="10.0.0.1", language="ru")
    _age_current_code(recovery, app_settings.RESEND_COOLDOWN)
    deliver(services.recovery_code_resend, recovery=recovery)
    assert len(sms_outbox) == 2
    assert all(not re.search(r"\d{6}", sms.body.replace(PHONE, "")) for sms in sms_outbox)
    assert _current_code(recovery).notice == Notice.UNKNOWN_ACCOUNT


def test_recovery_resend_does_the_same_work_for_known_and_unknown_contacts(deliver):
    UserFactory(phone=PHONE)
    counts = []
    for contact in (PHONE, "+79161234567"):
        recovery = deliver(services.recovery_start, contact=contact, ip="10.0.0.1", language="ru")
        _age_current_code(recovery, app_settings.RESEND_COOLDOWN)
        recovery = Recovery.objects.get(pk=recovery.pk)
        with CaptureQueriesContext(connection) as queries:
            services.recovery_code_resend(recovery=recovery)
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- Enumeration safety -------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _register_in_browser(client, *, phone: str = "", email: str = "") -> dict:
    """Post the registration form and open the code page, as a browser does."""
    with CaptureQueriesContext(connection) as post_queries:
        response = client.post(
            reverse("verification:registration_start"),
            {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": phone, "email": email},
        )
    with CaptureQueriesContext(connection) as page_queries:
        page = client.get(reverse("verification:registration_code"))
    registration_id = client.session["registration_id"]
    body = _CSRF.sub('name="csrfmiddlewaretoken" value="-"', page.content.decode()).replace(registration_id, "-")
    return {
        "status": (response.status_code, page.status_code),
        "location": response["Location"],
        "body": body,
        "post_queries": [q["sql"] for q in post_queries.captured_queries],
        "page_queries": [q["sql"] for q in page_queries.captured_queries],
        "registration_id": registration_id,
    }


@pytest.mark.parametrize(
    ("taken", "free", "typed_taken"),
    [
        # Chosen so that both contacts mask the same way on the page ("+7 912 ***-**-89").
        ({"phone": PHONE}, {"phone": "8 912 765-43-89"}, {"phone": "8 912 345-67-89"}),
        ({"email": "owner@example.ru"}, {"email": "other@example.ru"}, {"email": "OWNER@example.ru"}),
    ],
)
def test_registration_with_a_taken_contact_answers_exactly_like_a_free_one(
    django_capture_on_commit_callbacks, sms_outbox, taken, free, typed_taken
):
    UserFactory(**({"phone": None} | taken))
    frozen = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        with django_capture_on_commit_callbacks(execute=True):
            answer_free = _register_in_browser(Client(), **free)
        with django_capture_on_commit_callbacks(execute=True):
            answer_taken = _register_in_browser(Client(), **typed_taken)
    assert answer_free["status"] == answer_taken["status"] == (HTTPStatus.FOUND, HTTPStatus.OK)
    assert answer_free["location"] == answer_taken["location"] == reverse("verification:registration_code")
    assert answer_free["body"] == answer_taken["body"]
    assert len(answer_free["post_queries"]) == len(answer_taken["post_queries"])
    assert len(answer_free["page_queries"]) == len(answer_taken["page_queries"])
    # Both were sent something, and only one account exists.
    assert len(mail.outbox) + len(sms_outbox) == 2
    assert User.objects.count() == 1


def test_owner_of_a_taken_phone_gets_a_recovery_link_and_no_code(start, sms_outbox):
    UserFactory(phone=PHONE)
    registration = start(phone="8 912 345 67 89")
    [sms] = sms_outbox
    assert sms.to == PHONE
    assert "http://testserver" + reverse("verification:recovery_start") in sms.body
    assert not re.search(r"\d{6}", sms.body)
    row = OneTimeCode.objects.get(flow_id=registration.pk)
    assert (row.notice, row.code_hmac, row.salt) == (Notice.ACCOUNT_EXISTS, "", "")
    assert Delivery.objects.get().kind == Notice.ACCOUNT_EXISTS


def test_owner_of_a_taken_email_gets_a_recovery_link_and_no_code(start, sms_outbox):
    UserFactory(email="owner@example.ru")
    start(phone="", email="Owner@Example.ru", language="en")
    assert sms_outbox == []
    [letter] = mail.outbox
    assert letter.to == ["owner@example.ru"]
    assert "already belongs to your account" in letter.body
    assert "http://testserver" + reverse("verification:recovery_start") in letter.body
    assert not re.search(r"\b\d{6}\b", letter.body)
    assert "/register/email/" not in letter.body + letter.alternatives[0][0]


def test_registration_with_a_taken_phone_never_confirms_and_opens_no_second_account(start):
    UserFactory(phone=PHONE)
    registration = start()
    with mock.patch("verification.codes.code_matches", return_value=True):
        for guess in ("000000", "123456", "999999"):
            with pytest.raises(FlowError) as excinfo:
                _confirm(registration, guess)
            assert excinfo.value.code == "code_invalid"
    assert Registration.objects.get(pk=registration.pk).phone_confirmed_at is None
    assert User.objects.count() == 1


def test_registration_with_a_free_phone_and_a_taken_email_cannot_finish(start, deliver, last_sms_code):
    UserFactory(email="owner@example.ru")
    registration = _confirm(start(email="owner@example.ru"), last_sms_code())
    registration = _set_password(deliver, registration)
    letter = mail.outbox[-1]
    assert letter.to == ["owner@example.ru"]
    assert not re.search(r"\b\d{6}\b", letter.body)
    with mock.patch("verification.codes.code_matches", return_value=True):
        with pytest.raises(FlowError):
            _confirm(registration, "123456")
    assert User.objects.count() == 1


def test_a_decoy_code_costs_the_same_hmac_as_a_real_one(start):
    UserFactory(phone=PHONE)
    registration = start()
    with mock.patch("verification.codes.constant_time_compare", wraps=codes.constant_time_compare) as compare:
        with pytest.raises(FlowError):
            _confirm(registration, "123456")
    compare.assert_called_once()


# --- Races ----------------------------------------------------------------------------------------


def test_two_registrations_for_one_phone_make_one_account(start, deliver, last_sms_code):
    first = _confirm(start(ip="10.0.0.1"), last_sms_code())
    second = _confirm(start(ip="10.0.0.2"), last_sms_code())
    _set_password(deliver, first)
    with pytest.raises(FlowError) as excinfo:
        _set_password(deliver, second)
    assert excinfo.value.code == "contact_taken"
    assert User.objects.count() == 1
    assert Registration.objects.get(pk=second.pk).completed_at is None


def _run_in_threads(target, args_list: list[tuple]) -> list:
    """Run target(*args) in parallel threads, released together; return results or exceptions."""
    barrier = threading.Barrier(len(args_list))
    results: list = [None] * len(args_list)

    def worker(index: int, args: tuple) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = target(*args)
        except Exception as exc:  # collected for the assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, args)) for i, args in enumerate(args_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises writers, so it cannot show a race (set DATABASE_URL)",
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_parallel_completions_for_one_phone_make_one_account(last_sms_code):
    registrations = []
    for ip in ("10.0.0.1", "10.0.0.2"):
        registration = services.registration_start(
            surname="Петров", first_name="Пётр", region="77", phone=PHONE, email="", ip=ip, language="ru"
        )
        registrations.append(_confirm(registration, last_sms_code()))

    def complete(registration):
        return services.registration_password_set(
            registration=registration, password=PASSWORD, password_confirm=PASSWORD
        )

    results = _run_in_threads(complete, [(r,) for r in registrations])

    assert User.objects.count() == 1
    errors = [r for r in results if isinstance(r, Exception)]
    assert [type(e) for e in errors] == [FlowError], results
    assert errors[0].code == "contact_taken"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_guesses_never_exceed_the_attempt_limit(last_sms_code):
    registration = services.registration_start(
        surname="Петров", first_name="Пётр", region="77", phone=PHONE, email="", ip="10.0.0.1", language="ru"
    )
    right = last_sms_code()

    def guess(code):
        return services.code_verify(purpose=Purpose.REGISTRATION, flow_id=registration.pk, code_input=code)

    results = _run_in_threads(guess, [(_wrong(right),)] * 20)

    assert all(isinstance(r, FlowError) for r in results), results
    assert {r.code for r in results} <= {"code_invalid", "too_many_attempts"}
    assert sum(r.code == "code_invalid" for r in results) <= app_settings.CODE_MAX_ATTEMPTS - 1
    assert _current_code(registration).attempts == app_settings.CODE_MAX_ATTEMPTS
    with pytest.raises(FlowError) as excinfo:
        guess(right)
    assert excinfo.value.code == "too_many_attempts"
