"""The registration, recovery and login API as a mobile client sees it."""

import datetime as dt
import re
import runpy
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import Tier, User
from tests.factories import UserFactory
from verification.models import OneTimeCode, Recovery, Registration

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Sunny-Meadow-914"
START_URL = reverse("api:registration-start")
RECOVERY_URL = reverse("api:recovery-start")
LOGIN_URL = reverse("api:login")
LOGOUT_URL = reverse("api:logout")
ME_URL = reverse("api:me")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def registration_start(api: APIClient, **fields):
    data = {"surname": "Петров", "first_name": "Пётр", "region": "77", **fields}
    return api.post(START_URL, data, format="json")


def registration_url(name: str, registration_id) -> str:
    return reverse(f"api:registration-{name}", kwargs={"pk": registration_id})


def recovery_url(name: str, recovery_id) -> str:
    return reverse(f"api:recovery-{name}", kwargs={"pk": recovery_id})


def post_code(api: APIClient, registration_id, code: str):
    return api.post(registration_url("code", registration_id), {"code": code}, format="json")


def post_password(api: APIClient, registration_id, password: str = PASSWORD, confirm: str | None = None):
    data = {"password": password, "password_confirm": password if confirm is None else confirm}
    return api.post(registration_url("password", registration_id), data, format="json")


def error(response, field: str = "non_field_errors") -> dict:
    """The first error item of ``field``; the API's one error shape."""
    body = response.json()
    assert set(body) == {"errors"}, body
    items = body["errors"][field]
    assert items, body
    for item in items:
        assert item["code"], item
        assert isinstance(item["message"], str) and item["message"], item
    return items[0]


def error_codes(response, field: str) -> list[str]:
    return [item["code"] for item in response.json()["errors"][field]]


def me(api: APIClient, token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(ME_URL)


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


# --- Registration, happy paths ------------------------------------------------------------


def test_registration_by_phone_ends_in_a_token_for_a_simplified_account(api, sms_outbox, last_sms_code):
    response = registration_start(api, phone="8 912 345-67-89")

    assert response.status_code == HTTPStatus.CREATED, response.json()
    state = response.json()
    assert state["next_step"] == "phone_code"
    assert state["code"]["channel"] == "sms"
    assert state["code"]["sent_to"] == "+7 912 ***-**-89"
    assert state["code"]["attempts_left"] == 5
    assert state["code"]["expires_at"] and state["code"]["resend_available_at"]
    assert "token" not in state
    assert [m.to for m in sms_outbox] == ["+79123456789"]
    registration_id = state["id"]

    response = post_code(api, registration_id, last_sms_code())
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["next_step"] == "password"
    assert response.json()["code"] is None
    assert "token" not in response.json()

    response = post_password(api, registration_id)
    assert response.status_code == HTTPStatus.OK, response.json()
    body = response.json()
    assert body["next_step"] == "done"
    assert body["token"]
    assert body["user"]["tier"] == Tier.SIMPLIFIED
    assert body["user"]["phone"] == "+79123456789"

    response = me(api, body["token"])
    assert response.status_code == HTTPStatus.OK
    profile = response.json()
    assert profile["tier"] == "simplified"
    assert profile["next_tier"] == "standard"
    assert profile["surname"] == "Петров"
    assert profile["phone"] == "+79123456789"
    assert profile["phone_confirmed"] is True
    assert profile["email"] is None
    assert profile["email_confirmed"] is False
    assert User.objects.get().check_password(PASSWORD)


def test_registration_by_email_only_confirms_the_email_first(api, sms_outbox, last_email_code):
    response = registration_start(api, email="Petrov@Example.RU")

    assert response.status_code == HTTPStatus.CREATED, response.json()
    state = response.json()
    assert state["next_step"] == "email_code"
    assert state["code"]["channel"] == "email"
    assert state["code"]["sent_to"] == "p****v@example.ru"
    assert [m.to for m in mail.outbox] == [["petrov@example.ru"]]
    assert sms_outbox == []

    response = post_code(api, state["id"], last_email_code())
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["next_step"] == "password"

    response = post_password(api, state["id"])
    assert response.status_code == HTTPStatus.OK, response.json()
    token = response.json()["token"]

    profile = me(api, token).json()
    assert profile["tier"] == "simplified"
    assert profile["email"] == "petrov@example.ru"
    assert profile["email_confirmed"] is True
    assert profile["phone"] is None
    assert profile["phone_confirmed"] is False
    assert len(mail.outbox) == 1


def test_registration_with_phone_and_email_confirms_the_email_after_the_password(
    api, sms_outbox, last_sms_code, last_email_code
):
    response = registration_start(api, phone="+7 (912) 345 67 89", email="petrov@example.ru")
    assert response.status_code == HTTPStatus.CREATED, response.json()
    registration_id = response.json()["id"]
    assert response.json()["next_step"] == "phone_code"
    assert len(sms_outbox) == 1
    assert mail.outbox == []

    assert post_code(api, registration_id, last_sms_code()).json()["next_step"] == "password"

    response = post_password(api, registration_id)
    assert response.status_code == HTTPStatus.OK, response.json()
    state = response.json()
    assert state["next_step"] == "email_code"
    assert state["code"]["channel"] == "email"
    assert "token" not in state
    assert [m.to for m in mail.outbox] == [["petrov@example.ru"]]
    assert not User.objects.exists()

    response = post_code(api, registration_id, last_email_code())
    assert response.status_code == HTTPStatus.OK, response.json()
    body = response.json()
    assert body["next_step"] == "done"
    assert body["user"]["email_confirmed"] is True

    profile = me(api, body["token"]).json()
    assert profile["tier"] == "simplified"
    assert (profile["phone"], profile["phone_confirmed"]) == ("+79123456789", True)
    assert (profile["email"], profile["email_confirmed"]) == ("petrov@example.ru", True)
    assert len(sms_outbox) == 1


def test_registration_detail_tells_where_the_flow_stands(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]

    response = api.get(registration_url("detail", registration_id))
    assert response.status_code == HTTPStatus.OK
    assert response.json()["next_step"] == "phone_code"
    assert response.json()["code"]["attempts_left"] == 5

    post_code(api, registration_id, last_sms_code())
    response = api.get(registration_url("detail", registration_id))
    assert response.json() == {"id": registration_id, "next_step": "password", "code": None}


def test_resend_sends_a_new_code_and_the_old_one_stops_working(api, settings, sms_outbox, last_sms_code):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    first = last_sms_code()

    response = api.post(registration_url("resend", registration_id))
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["next_step"] == "phone_code"
    assert len(sms_outbox) == 2
    second = last_sms_code()

    if first != second:  # one chance in a million that the new code repeats the old one
        response = post_code(api, registration_id, first)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert error(response, "code")["code"] == "code_invalid"
    assert post_code(api, registration_id, second).status_code == HTTPStatus.OK


def test_resend_before_the_cooldown_is_refused_with_retry_after(api, sms_outbox):
    registration_id = registration_start(api, phone="89123456789").json()["id"]

    response = api.post(registration_url("resend", registration_id))

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    item = error(response)
    assert item["code"] == "too_many_attempts"
    assert 0 < item["retry_after"] <= 60
    assert response["Retry-After"] == str(item["retry_after"])
    assert len(sms_outbox) == 1


def drop_contact(api: APIClient, registration_id, contact: str):
    return api.post(registration_url("contact-drop", registration_id), {"contact": contact}, format="json")


def test_dropping_the_phone_sends_the_code_to_the_email_instead(api, sms_outbox, last_email_code):
    registration_id = registration_start(api, phone="89123456789", email="petrov@example.ru").json()["id"]

    response = drop_contact(api, registration_id, "phone")

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["next_step"] == "email_code"
    assert response.json()["code"]["channel"] == "email"
    assert [m.to for m in mail.outbox] == [["petrov@example.ru"]]
    assert post_code(api, registration_id, last_email_code()).json()["next_step"] == "password"
    token = post_password(api, registration_id).json()["token"]
    profile = me(api, token).json()
    assert (profile["phone"], profile["email"], profile["email_confirmed"]) == (None, "petrov@example.ru", True)
    assert len(sms_outbox) == 1


def test_dropping_the_email_after_the_password_finishes_with_the_phone(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789", email="petrov@example.ru").json()["id"]
    post_code(api, registration_id, last_sms_code())
    assert post_password(api, registration_id).json()["next_step"] == "email_code"

    response = drop_contact(api, registration_id, "email")

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["next_step"] == "done"
    profile = me(api, response.json()["token"]).json()
    assert (profile["phone"], profile["phone_confirmed"], profile["email"]) == ("+79123456789", True, None)


def test_a_confirmed_or_only_contact_cannot_be_dropped(api, last_sms_code):
    only_phone = registration_start(api, phone="89123456780").json()["id"]
    both = registration_start(api, phone="89123456789", email="petrov@example.ru").json()["id"]
    post_code(api, both, last_sms_code())

    for registration_id, contact in ((only_phone, "phone"), (both, "phone")):
        response = drop_contact(api, registration_id, contact)
        assert response.status_code == HTTPStatus.CONFLICT
        assert error(response, "contact")["code"] == "wrong_step"
    response = drop_contact(api, both, "fax")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error_codes(response, "contact") == ["invalid_choice"]
    assert Registration.objects.get(pk=both).phone == "+79123456789"


# --- Registration, errors -----------------------------------------------------------------


def test_wrong_code_answers_code_invalid_with_attempts_left(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]

    response = post_code(api, registration_id, wrong_code(last_sms_code()))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    item = error(response, "code")
    assert item["code"] == "code_invalid"
    assert item["attempts_left"] == 4
    assert api.get(registration_url("detail", registration_id)).json()["code"]["attempts_left"] == 4


def test_code_of_wrong_length_is_refused_without_spending_an_attempt(api):
    registration_id = registration_start(api, phone="89123456789").json()["id"]

    response = post_code(api, registration_id, "123")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error(response, "code")["code"] == "code_format"
    assert api.get(registration_url("detail", registration_id)).json()["code"]["attempts_left"] == 5


def test_code_typed_with_spaces_is_accepted(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    code = last_sms_code()

    response = post_code(api, registration_id, f"{code[:3]} {code[3:]}")

    assert response.status_code == HTTPStatus.OK, response.json()


def test_last_wrong_attempt_answers_429_and_then_even_the_right_code_fails(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    right = last_sms_code()
    for left in (4, 3, 2, 1):
        assert error(post_code(api, registration_id, wrong_code(right)), "code")["attempts_left"] == left

    response = post_code(api, registration_id, wrong_code(right))

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    item = error(response, "code")
    assert item["code"] == "too_many_attempts"
    assert item["attempts_left"] == 0
    assert 0 < item["retry_after"] <= 60
    assert response["Retry-After"] == str(item["retry_after"])

    response = post_code(api, registration_id, right)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert error(response, "code")["code"] == "too_many_attempts"
    assert Registration.objects.get().phone_confirmed_at is None


def test_expired_code_answers_code_expired(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    OneTimeCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = post_code(api, registration_id, last_sms_code())

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error(response, "code")["code"] == "code_expired"
    assert Registration.objects.get().phone_confirmed_at is None


def test_used_code_cannot_confirm_twice(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    code = last_sms_code()
    post_code(api, registration_id, code)

    response = post_code(api, registration_id, code)

    assert response.status_code == HTTPStatus.CONFLICT
    assert error(response)["code"] == "wrong_step"


def test_expired_registration_answers_410(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    Registration.objects.update(created_at=timezone.now() - dt.timedelta(days=1, seconds=1))

    for response in (
        api.get(registration_url("detail", registration_id)),
        post_code(api, registration_id, last_sms_code()),
        post_password(api, registration_id),
        api.post(registration_url("resend", registration_id)),
    ):
        assert response.status_code == HTTPStatus.GONE
        assert error(response)["code"] == "registration_expired"
    assert Registration.objects.get().phone_confirmed_at is None


def test_unknown_registration_answers_410(api):
    response = api.get(registration_url("detail", "00000000-0000-4000-8000-000000000000"))

    assert response.status_code == HTTPStatus.GONE
    assert error(response)["code"] == "registration_expired"


def test_password_before_the_code_is_the_wrong_step(api):
    registration_id = registration_start(api, phone="89123456789").json()["id"]

    response = post_password(api, registration_id)

    assert response.status_code == HTTPStatus.CONFLICT
    assert error(response)["code"] == "wrong_step"
    assert Registration.objects.get().password_hash == ""


def test_password_twice_is_the_wrong_step(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789", email="petrov@example.ru").json()["id"]
    post_code(api, registration_id, last_sms_code())
    assert post_password(api, registration_id).status_code == HTTPStatus.OK

    response = post_password(api, registration_id, "Another-Pass-123")

    assert response.status_code == HTTPStatus.CONFLICT
    assert error(response)["code"] == "wrong_step"


def test_resend_after_the_phone_is_confirmed_is_the_wrong_step(api, settings, last_sms_code, sms_outbox):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    post_code(api, registration_id, last_sms_code())

    response = api.post(registration_url("resend", registration_id))

    assert response.status_code == HTTPStatus.CONFLICT
    assert error(response)["code"] == "wrong_step"
    assert len(sms_outbox) == 1


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("12345", "phone_invalid"),
        ("+7 999 000", "phone_invalid"),
        ("телефон", "phone_invalid"),
        ("+7 701 234 56 78", "phone_not_russian"),  # Kazakhstan shares +7
        ("+7 777 123 45 67", "phone_not_russian"),
        ("+7 495 123-45-67", "phone_not_mobile"),  # a Moscow landline
        ("+44 7911 123456", "phone_not_russian"),
    ],
)
def test_registration_refuses_a_phone_that_cannot_get_our_sms(api, sms_outbox, phone, code):
    response = registration_start(api, phone=phone)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error_codes(response, "phone") == [code]
    assert not Registration.objects.exists()
    assert sms_outbox == []


def test_registration_needs_a_contact(api):
    response = registration_start(api, phone="", email="")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error(response)["code"] == "contact_required"
    assert not Registration.objects.exists()


def test_registration_refuses_a_bad_email(api):
    response = registration_start(api, email="not-an-email")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error_codes(response, "email") == ["email_invalid"]


def test_registration_reports_every_bad_field_at_once(api):
    response = api.post(START_URL, {"region": "00", "phone": "+7 495 123-45-67"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.json()["errors"]
    assert {"surname", "first_name", "region"} <= set(errors)
    assert errors["surname"][0]["code"] == "required"
    assert errors["region"][0]["code"] == "invalid_choice"


@pytest.mark.parametrize(
    ("password", "confirm", "field", "code"),
    [
        ("Ab-1", None, "password", "password_too_short"),
        ("password123", None, "password", "password_too_common"),
        ("83920571645", None, "password", "password_entirely_numeric"),
        ("x" * 129 + "-A1", None, "password", "password_too_long"),
        ("Петров1234", None, "password", "password_too_similar"),
        (PASSWORD, "Sunny-Meadow-915", "password_confirm", "password_mismatch"),
    ],
)
def test_password_errors_are_reported_per_field(api, last_sms_code, password, confirm, field, code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    post_code(api, registration_id, last_sms_code())

    response = post_password(api, registration_id, password, confirm)

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.json()
    assert code in error_codes(response, field)
    assert not User.objects.exists()
    assert api.get(registration_url("detail", registration_id)).json()["next_step"] == "password"


def test_contact_taken_while_registering_answers_409(api, last_sms_code):
    registration_id = registration_start(api, phone="89123456789").json()["id"]
    post_code(api, registration_id, last_sms_code())
    UserFactory(phone="+79123456789")

    response = post_password(api, registration_id)

    assert response.status_code == HTTPStatus.CONFLICT
    assert error(response)["code"] == "contact_taken"
    assert User.objects.count() == 1


# --- Enumeration safety -------------------------------------------------------------------


def comparable(response) -> tuple:
    """Status and body without what differs between any two registrations: id and times."""
    body = response.json()
    code = dict(body["code"])
    for key in ("expires_at", "resend_available_at"):
        assert code.pop(key)
    return response.status_code, sorted(body), body["next_step"], code


def test_taken_phone_gets_the_same_answer_as_a_free_one(api, sms_outbox):
    UserFactory(phone="+79123456789")

    taken = registration_start(api, phone="8 912 345-67-89")
    free = registration_start(api, phone="8 912 000-00-89")  # masked alike: +7 912 ***-**-89

    assert comparable(taken) == comparable(free)
    assert taken.json()["id"] != free.json()["id"]
    assert sorted(taken.headers) == sorted(free.headers)
    assert len(sms_outbox) == 2


def test_taken_phone_gets_a_notice_and_no_code_can_confirm_it(api, sms_outbox, last_sms_code):
    UserFactory(phone="+79123456789")

    response = registration_start(api, phone="89123456789")
    assert response.status_code == HTTPStatus.CREATED

    assert [m.to for m in sms_outbox] == ["+79123456789"]
    notice = sms_outbox[0].body
    assert reverse("verification:recovery_start") in notice
    with pytest.raises(AssertionError):
        last_sms_code()  # the owner is told, a stranger learns nothing, and there is no code

    response = post_code(api, response.json()["id"], "123456")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    item = error(response, "code")
    assert item["code"] == "code_invalid"
    assert item["attempts_left"] == 4
    assert User.objects.count() == 1


def test_taken_email_gets_the_same_answer_as_a_free_email(api):
    UserFactory(email="owner@example.ru")

    taken = registration_start(api, email="OWNER@example.ru")
    free = registration_start(api, email="oxxxr@example.ru")  # masked alike: o***r@example.ru

    assert comparable(taken) == comparable(free)
    assert [m.to for m in mail.outbox] == [["owner@example.ru"], ["oxxxr@example.ru"]]
    assert not re.search(r"\b\d{6}\b", mail.outbox[0].body)  # the owner gets a notice, not a code
    assert re.search(r"\b\d{6}\b", mail.outbox[1].body)


# --- Access recovery ----------------------------------------------------------------------


def recovery_start(api: APIClient, contact: str):
    return api.post(RECOVERY_URL, {"contact": contact}, format="json")


def test_recovery_by_phone_sets_a_new_password_and_returns_a_token(api, sms_outbox, last_sms_code):
    user = UserFactory(phone="+79123456789")

    response = recovery_start(api, "8 (912) 345-67-89")
    assert response.status_code == HTTPStatus.CREATED, response.json()
    state = response.json()
    assert state["next_step"] == "code"
    assert state["code"]["sent_to"] == "+7 912 ***-**-89"
    assert [m.to for m in sms_outbox] == ["+79123456789"]

    response = api.post(recovery_url("code", state["id"]), {"code": last_sms_code()}, format="json")
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["next_step"] == "password"

    response = api.post(
        recovery_url("password", state["id"]),
        {"password": "Brand-New-Pass-77", "password_confirm": "Brand-New-Pass-77"},
        format="json",
    )
    assert response.status_code == HTTPStatus.OK, response.json()
    body = response.json()
    assert body["next_step"] == "done"
    assert body["user"]["id"] == user.pk
    assert me(api, body["token"]).json()["id"] == user.pk
    user.refresh_from_db()
    assert user.check_password("Brand-New-Pass-77")

    # The finished recovery cannot be replayed.
    response = api.post(
        recovery_url("password", state["id"]),
        {"password": "Other-Pass-77x", "password_confirm": "Other-Pass-77x"},
        format="json",
    )
    assert response.status_code == HTTPStatus.GONE
    assert error(response)["code"] == "recovery_expired"


def test_recovery_by_email_returns_a_token(api, last_email_code):
    user = UserFactory(email="owner@example.ru")

    recovery_id = recovery_start(api, "Owner@Example.ru").json()["id"]
    api.post(recovery_url("code", recovery_id), {"code": last_email_code()}, format="json")
    response = api.post(
        recovery_url("password", recovery_id),
        {"password": "Brand-New-Pass-77", "password_confirm": "Brand-New-Pass-77"},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["user"]["id"] == user.pk
    assert response.json()["token"]


def test_recovery_for_an_unknown_phone_looks_the_same_and_cannot_succeed(api, sms_outbox):
    UserFactory(phone="+79123456789")
    known = recovery_start(api, "89123456789")
    unknown = recovery_start(api, "89123456780")

    assert known.status_code == unknown.status_code == HTTPStatus.CREATED
    assert sorted(known.json()) == sorted(unknown.json())
    assert sorted(known.json()["code"]) == sorted(unknown.json()["code"])
    assert [m.to for m in sms_outbox] == ["+79123456789", "+79123456780"]
    assert reverse("verification:registration_start") in sms_outbox[1].body

    response = api.post(recovery_url("code", unknown.json()["id"]), {"code": "123456"}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error(response, "code")["code"] == "code_invalid"
    assert Recovery.objects.get(pk=unknown.json()["id"]).verified_at is None


def test_recovery_password_before_the_code_is_the_wrong_step(api):
    UserFactory(phone="+79123456789")
    recovery_id = recovery_start(api, "89123456789").json()["id"]

    response = api.post(
        recovery_url("password", recovery_id),
        {"password": "Brand-New-Pass-77", "password_confirm": "Brand-New-Pass-77"},
        format="json",
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert error(response)["code"] == "wrong_step"


def test_recovery_refuses_a_bad_contact(api):
    response = recovery_start(api, "+7 701 234 56 78")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error_codes(response, "contact") == ["phone_not_russian"]


def test_recovery_password_errors_are_reported_per_field(api, last_sms_code):
    UserFactory(phone="+79123456789")
    recovery_id = recovery_start(api, "89123456789").json()["id"]
    api.post(recovery_url("code", recovery_id), {"code": last_sms_code()}, format="json")

    response = api.post(
        recovery_url("password", recovery_id), {"password": "short", "password_confirm": "short"}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "password_too_short" in error_codes(response, "password")
    assert not Recovery.objects.get().completed_at


# --- Login and logout ---------------------------------------------------------------------


def login(api: APIClient, login_: str, password: str = "Correct-Horse-42"):
    return api.post(LOGIN_URL, {"login": login_, "password": password}, format="json")


@pytest.mark.parametrize(
    "spelling",
    ["+79123456789", "+7 912 345-67-89", "8 (912) 345-67-89", "89123456789", "79123456789", " 8-912-345-67-89 "],
)
def test_login_accepts_any_usual_spelling_of_the_phone(api, spelling):
    user = UserFactory(phone="+79123456789")

    response = login(api, spelling)

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["user"]["id"] == user.pk
    assert me(api, response.json()["token"]).json()["id"] == user.pk


def test_login_by_email_ignores_case(api):
    user = UserFactory(email="owner@example.ru")

    response = login(api, "Owner@Example.RU")

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["user"]["id"] == user.pk


@pytest.mark.parametrize(
    ("login_", "password"),
    [("+79123456789", "Wrong-Horse-42"), ("+79123456780", "Correct-Horse-42"), ("nobody@example.ru", "x")],
)
def test_login_refuses_wrong_credentials_alike(api, login_, password):
    UserFactory(phone="+79123456789")

    response = login(api, login_, password)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error(response)["code"] == "invalid_login"
    assert "token" not in response.json()


def test_login_refuses_a_blocked_account(api):
    UserFactory(phone="+79123456789", is_active=False)

    response = login(api, "+79123456789")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error(response)["code"] == "invalid_login"


def test_login_needs_both_fields(api):
    response = api.post(LOGIN_URL, {}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert error_codes(response, "login") == ["required"]
    assert error_codes(response, "password") == ["required"]


def test_me_without_a_token_is_401(api):
    response = api.get(ME_URL)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert error(response)["code"] == "not_authenticated"


def test_logout_revokes_only_that_token(api):
    UserFactory(phone="+79123456789")
    first = login(api, "+79123456789").json()["token"]
    second = login(api, "+79123456789").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")

    response = client.post(LOGOUT_URL)

    assert response.status_code == HTTPStatus.NO_CONTENT
    response = me(api, first)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert error(response)["code"] == "authentication_failed"
    assert me(api, second).status_code == HTTPStatus.OK


def test_logout_without_a_token_is_401(api):
    assert api.post(LOGOUT_URL).status_code == HTTPStatus.UNAUTHORIZED


def test_failed_logins_are_limited_with_429(api):
    UserFactory(phone="+79123456789")
    for _attempt in range(5):
        assert login(api, "+79123456789", "Wrong-Horse-42").status_code == HTTPStatus.BAD_REQUEST

    response = login(api, "+79123456789")  # even the right password

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    item = error(response)
    assert item["code"] == "too_many_attempts"
    assert item["retry_after"] > 0
    assert response["Retry-After"] == str(item["retry_after"])
    assert "token" not in response.json()


def test_failed_login_limit_counts_every_spelling_of_one_phone(api):
    UserFactory(phone="+79123456789")
    spellings = ["+79123456789", "89123456789", "8 912 345 67 89", "+7 (912) 345-67-89", "7-912-345-67-89"]
    for spelling in spellings:
        assert login(api, spelling, "Wrong-Horse-42").status_code == HTTPStatus.BAD_REQUEST

    response = login(api, "8(912)3456789")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert error(response)["code"] == "too_many_attempts"


def test_failed_logins_of_one_person_do_not_lock_out_another(api):
    UserFactory(phone="+79123456789")
    other = UserFactory(phone="+79123456780")
    for _attempt in range(5):
        login(api, "+79123456789", "Wrong-Horse-42")

    response = APIClient(REMOTE_ADDR="10.0.0.2").post(
        LOGIN_URL, {"login": "+79123456780", "password": "Correct-Horse-42"}, format="json"
    )

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["user"]["id"] == other.pk


def test_login_throttle_is_not_fooled_by_a_forged_x_forwarded_for(api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    UserFactory(phone="+79123456789")
    for n in range(3):
        response = api.post(
            LOGIN_URL,
            {"login": "+79123456789", "password": "Correct-Horse-42"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        assert response.status_code == HTTPStatus.OK

    response = api.post(
        LOGIN_URL,
        {"login": "+79123456789", "password": "Correct-Horse-42"},
        format="json",
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    item = error(response)
    assert item["code"] == "too_many_attempts"
    assert item["retry_after"] > 0
    assert response["Retry-After"] == str(item["retry_after"])


@pytest.fixture
def behind_one_proxy(settings):
    """What TRUSTED_PROXY_COUNT=1 in the environment makes of the settings (see the test below)."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def test_trusted_proxy_count_reaches_every_limiter(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")

    values = runpy.run_path(str(Path(django_settings.BASE_DIR) / "config" / "settings" / "base.py"))

    assert values["TRUSTED_PROXY_COUNT"] == 1
    assert values["ALLAUTH_TRUSTED_PROXY_COUNT"] == 1
    assert values["REST_FRAMEWORK"]["NUM_PROXIES"] == 1


def test_behind_a_proxy_one_clients_failed_logins_do_not_lock_out_the_others(api, behind_one_proxy):
    owner = UserFactory(phone="+79123456789")
    attacker = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    for n in range(10):
        attacker.post(LOGIN_URL, {"login": f"+7912345670{n}", "password": "guess"}, format="json")
    response = attacker.post(LOGIN_URL, {"login": "+79123456711", "password": "guess"}, format="json")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS  # the attacker's address is limited

    citizen = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    response = citizen.post(LOGIN_URL, {"login": "+79123456789", "password": "Correct-Horse-42"}, format="json")

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["user"]["id"] == owner.pk


@pytest.mark.parametrize("surname", ["<script>", "Петров2", "   ", "Я" * 101])
def test_api_rejects_impossible_names_like_the_form_does(api, sms_outbox, surname):
    response = registration_start(api, surname=surname, phone="+79123456789")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"]["surname"][0]["code"] in {"name_invalid", "required", "blank", "max_length"}
    assert not Registration.objects.exists()
    assert sms_outbox == []


def test_api_keeps_a_double_barrelled_name_with_single_spaces(api):
    response = registration_start(api, surname="  Римский-Корсаков  ", first_name="Анна  Мария", phone="+79123456789")

    assert response.status_code == HTTPStatus.CREATED
    registration = Registration.objects.get()
    assert (registration.surname, registration.first_name) == ("Римский-Корсаков", "Анна Мария")
