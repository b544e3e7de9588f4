"""The browser side of registration, access recovery, sign-in and the cabinet."""

import datetime as dt
import html
import re
from http import HTTPStatus
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from tests.factories import UserFactory
from verification.conf import app_settings
from verification.models import OneTimeCode, Registration

pytestmark = pytest.mark.django_db

PHONE = "+79123456789"
PASSWORD = "Sunny-Meadow-914"
FACTORY_PASSWORD = "Correct-Horse-42"

START = reverse("verification:registration_start")
CODE = reverse("verification:registration_code")
RESEND = reverse("verification:registration_resend")
PASSWORD_PAGE = reverse("verification:registration_password")
RECOVER = reverse("verification:recovery_start")
RECOVER_CODE = reverse("verification:recovery_code")
RECOVER_PASSWORD = reverse("verification:recovery_password")
CABINET = reverse("accounts:cabinet")
LOGIN = reverse("account_login")
LOGOUT = reverse("account_logout")


def text(response) -> str:
    """The page as a person reads it (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def in_russian(english: str) -> str:
    """What the Russian page shows for a message; fails loudly if it is not translated."""
    with translation.override("ru"):
        russian = translation.gettext(english)
    assert russian != english, f"no Russian translation for {english!r}"
    return russian


def in_russian_plural(singular: str, plural: str, n: int) -> str:
    with translation.override("ru"):
        russian = translation.ngettext(singular, plural, n) % {"n": n}
    assert russian != plural % {"n": n}, f"no Russian translation for {plural!r}"
    return russian


@pytest.fixture
def browser(django_capture_on_commit_callbacks):
    """A test client whose POSTs also run what they queue after commit (sending the codes)."""

    class Browser(Client):
        def post(self, *args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return super().post(*args, **kwargs)

    return Browser


@pytest.fixture
def ru(browser):
    return browser()


@pytest.fixture
def en(browser):
    client = browser()
    client.cookies["django_language"] = "en"
    return client


def register(client, *, phone: str = "8 912 345-67-89", email: str = "") -> None:
    response = client.post(
        START, {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": phone, "email": email}
    )
    assert response.status_code == HTTPStatus.FOUND, text(response)[:2000]
    assert response["Location"] == CODE


def current_code(client) -> OneTimeCode:
    return OneTimeCode.objects.get(flow_id=client.session["registration_id"], revoked_at__isnull=True)


# --- The code page ------------------------------------------------------------------------------


def test_code_page_in_russian_offers_one_time_code_autofill_countdowns_and_help(ru):
    register(ru)
    page = ru.get(CODE)
    assert page.status_code == HTTPStatus.OK
    body = text(page)
    code = current_code(ru)
    assert '<html lang="ru">' in body
    assert 'autocomplete="one-time-code"' in body
    assert f'data-countdown="{timezone.localtime(code.expires_at).isoformat()}"' in body
    resend_at = code.created_at + dt.timedelta(seconds=app_settings.RESEND_COOLDOWN)
    assert f'data-available-at="{timezone.localtime(resend_at).isoformat()}"' in body
    assert "Не пришёл код?" in body
    assert in_russian("Confirm your phone") in body
    assert "+7 912 ***-**-89" in body
    assert "345-67-89" not in body


def test_pages_stay_russian_for_an_english_browser_until_english_is_chosen(browser):
    """Accept-Language does not switch pages (config.middleware); the language switch does."""
    client = browser(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    register(client)
    body = text(client.get(CODE))
    assert '<html lang="ru">' in body
    assert "Не пришёл код?" in body
    response = client.post(reverse("set_language"), {"language": "en", "next": CODE})
    assert response["Location"] == CODE
    body = text(client.get(CODE))
    assert '<html lang="en">' in body
    assert "Didn't get the code?" in body
    assert "Confirm your phone" in body
    assert 'autocomplete="one-time-code"' in body


def test_code_page_in_english_by_language_cookie(en, sms_outbox):
    register(en)
    body = text(en.get(CODE))
    assert "Didn't get the code?" in body
    assert "Не пришёл код?" not in body
    assert sms_outbox[-1].body.startswith("Registration code:")  # the SMS speaks the page's language


def test_wrong_code_shows_the_attempts_left_in_russian(ru, sms_outbox):
    register(ru)
    response = ru.post(CODE, {"code": "000000" if "000000" not in sms_outbox[-1].body else "111111"})
    assert response.status_code == HTTPStatus.OK
    assert in_russian_plural("Wrong code. %(n)d attempt left.", "Wrong code. %(n)d attempts left.", 4) in text(response)


def test_wrong_code_shows_the_attempts_left_in_english(en, last_sms_code):
    register(en)
    wrong = "000000" if last_sms_code() != "000000" else "111111"
    assert "Wrong code. 4 attempts left." in text(en.post(CODE, {"code": wrong}))
    assert "Wrong code. 3 attempts left." in text(en.post(CODE, {"code": wrong}))
    en.post(CODE, {"code": wrong})
    assert "Wrong code. 1 attempt left." in text(en.post(CODE, {"code": wrong}))
    exhausted = text(en.post(CODE, {"code": wrong}))
    assert "No attempts left for this code." in exhausted
    assert "No attempts left for this code." in text(en.post(CODE, {"code": last_sms_code()}))
    assert not User.objects.exists()


def test_resend_button_respects_the_cooldown(ru, sms_outbox):
    register(ru)
    response = ru.post(RESEND, follow=True)
    assert response.redirect_chain == [(CODE, HTTPStatus.FOUND)]
    prefix = in_russian_plural(
        "A new code can be requested in %(n)d second.", "A new code can be requested in %(n)d seconds.", 60
    ).split("60")[0]
    wait = re.search(re.escape(prefix) + r"(\d+)", text(response))
    assert wait, text(response)
    assert 55 <= int(wait.group(1)) <= 60
    assert len(sms_outbox) == 1

    code = current_code(ru)
    OneTimeCode.objects.filter(pk=code.pk).update(created_at=code.created_at - dt.timedelta(seconds=60))
    response = ru.post(RESEND, follow=True)
    assert in_russian("A new code has been sent. The previous one no longer works.") in text(response)
    assert len(sms_outbox) == 2
    assert current_code(ru).pk != code.pk


# --- Whole registrations ---------------------------------------------------------------------------


def test_phone_registration_ends_signed_in_in_the_cabinet(ru, last_sms_code):
    register(ru)
    response = ru.post(CODE, {"code": last_sms_code()})
    assert response["Location"] == PASSWORD_PAGE
    response = ru.post(PASSWORD_PAGE, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response["Location"] == CABINET
    cabinet = ru.get(CABINET)
    assert cabinet.status_code == HTTPStatus.OK
    assert "Петров Пётр" in text(cabinet)
    assert ru.session["_auth_user_id"] == str(User.objects.get().pk)


def test_password_errors_are_shown_on_the_form(ru, last_sms_code):
    register(ru)
    ru.post(CODE, {"code": last_sms_code()})
    response = ru.post(PASSWORD_PAGE, {"password": "qwertyuiop", "password_confirm": "qwertyuiop"})
    assert response.status_code == HTTPStatus.OK
    assert 'class="error"' in response.content.decode()
    assert not User.objects.exists()


@pytest.fixture
def email_link(ru, last_sms_code):
    """A registration with phone and email, at the email step; returns the link from the letter."""
    register(ru, email="petr@example.ru")
    ru.post(CODE, {"code": last_sms_code()})
    response = ru.post(PASSWORD_PAGE, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response["Location"] == CODE
    return re.search(r"http://testserver(/register/email/\S+)", mail.outbox[-1].body).group(1)


def test_email_link_asks_for_a_press_and_then_signs_in_the_same_browser(ru, email_link):
    page = ru.get(email_link)
    assert page.status_code == HTTPStatus.OK
    assert in_russian("Press the button to confirm this email and finish registration.") in text(page)
    assert not User.objects.exists()  # a mail scanner following the link confirms nothing
    response = ru.post(email_link)
    assert response["Location"] == CABINET
    user = User.objects.get()
    assert (user.phone_confirmed, user.email_confirmed) == (True, True)
    assert ru.get(CABINET).status_code == HTTPStatus.OK


def test_email_link_opened_in_another_browser_confirms_but_does_not_sign_in(browser, email_link):
    other = browser()
    response = other.post(email_link)
    assert response.status_code == HTTPStatus.OK
    assert in_russian("Your email is confirmed and registration is complete.") in text(response)
    assert User.objects.get().email_confirmed
    assert "_auth_user_id" not in other.session


def test_email_link_with_a_wrong_code_is_refused(ru, email_link):
    registration_id, code = email_link.strip("/").split("/")[-2:]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = ru.post(reverse("verification:registration_email_link", args=[registration_id, wrong]))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert in_russian_plural("Wrong code. %(n)d attempt left.", "Wrong code. %(n)d attempts left.", 4) in text(response)
    assert not User.objects.exists()


def test_second_registration_of_a_phone_is_told_to_recover_access_not_a_server_error(browser, sms_outbox):
    first, second = browser(), browser()
    register(first)
    first_code = re.search(r"\d{6}", sms_outbox[-1].body).group(0)
    register(second)
    second_code = re.search(r"\d{6}", sms_outbox[-1].body).group(0)
    first.post(CODE, {"code": first_code})
    second.post(CODE, {"code": second_code})
    first.post(PASSWORD_PAGE, {"password": PASSWORD, "password_confirm": PASSWORD})
    response = second.post(PASSWORD_PAGE, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert in_russian(
        "An account with this phone or email already exists. Recover access to it instead of registering again."
    ) in text(response)
    assert User.objects.count() == 1
    assert second.get(CODE)["Location"] == START


def test_registration_form_refuses_a_kazakh_number_in_russian(ru, sms_outbox):
    response = ru.post(
        START, {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": "+7 701 123 45 67", "email": ""}
    )
    assert response.status_code == HTTPStatus.OK
    assert in_russian("Only Russian mobile numbers (+7 9xx) can receive our SMS.") in text(response)
    assert not Registration.objects.exists()
    assert sms_outbox == []


def test_allauth_signup_leads_to_our_registration(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == START


# --- Access recovery -----------------------------------------------------------------------------------


def test_recovery_by_phone_in_the_browser(ru, last_sms_code):
    user = UserFactory(phone=PHONE)
    assert ru.get(RECOVER).status_code == HTTPStatus.OK
    response = ru.post(RECOVER, {"contact": "8 (912) 345-67-89"})
    assert response["Location"] == RECOVER_CODE
    page = ru.get(RECOVER_CODE)
    assert 'autocomplete="one-time-code"' in text(page)
    assert "Не пришёл код?" in text(page)
    assert ru.post(RECOVER_CODE, {"code": last_sms_code()})["Location"] == RECOVER_PASSWORD
    response = ru.post(RECOVER_PASSWORD, {"password": "New-Meadow-915", "password_confirm": "New-Meadow-915"})
    assert response["Location"] == CABINET
    assert ru.session["_auth_user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.check_password("New-Meadow-915")


def test_recovery_by_email_in_the_browser(en, last_email_code):
    user = UserFactory(email="ivan@example.ru")
    assert en.post(RECOVER, {"contact": "IVAN@example.ru"})["Location"] == RECOVER_CODE
    assert mail.outbox[-1].to == ["ivan@example.ru"]
    response = en.post(RECOVER_CODE, {"code": "000000" if last_email_code() != "000000" else "111111"})
    assert "Wrong code. 4 attempts left." in text(response)
    assert en.post(RECOVER_CODE, {"code": last_email_code()})["Location"] == RECOVER_PASSWORD
    en.post(RECOVER_PASSWORD, {"password": "New-Meadow-915", "password_confirm": "New-Meadow-915"})
    user.refresh_from_db()
    assert user.check_password("New-Meadow-915")


def test_recovery_password_page_needs_the_code_first(ru):
    UserFactory(phone=PHONE)
    ru.post(RECOVER, {"contact": PHONE})
    assert ru.get(RECOVER_PASSWORD)["Location"] == RECOVER_CODE


def test_recovery_answers_the_same_for_an_unknown_phone(browser):
    UserFactory(phone=PHONE)
    frozen = timezone.now()
    pages = []
    # Both numbers mask to "+7 912 ***-**-89".
    for contact in ("8 912 345-67-89", "8 912 765-43-89"):
        client = browser()
        with mock.patch("django.utils.timezone.now", return_value=frozen):
            response = client.post(RECOVER, {"contact": contact})
            page = client.get(RECOVER_CODE)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == RECOVER_CODE
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.content.decode())
        pages.append((page.status_code, body))
    assert pages[0] == pages[1]


# --- Sign-in, sign-out and the cabinet ----------------------------------------------------------------


@pytest.mark.parametrize("login", ["+79123456789", "8 912 345-67-89", "+7 (912) 345 67 89", "89123456789"])
def test_sign_in_with_a_phone_in_any_spelling(client, login):
    user = UserFactory(phone=PHONE)
    response = client.post(LOGIN, {"login": login, "password": FACTORY_PASSWORD})
    assert response.status_code == HTTPStatus.FOUND, text(response)[:2000]
    assert response["Location"] == CABINET
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("login", ["ivan@example.ru", "IVAN@Example.RU", " Ivan@example.ru "])
def test_sign_in_with_an_email_in_any_case(client, login):
    user = UserFactory(email="ivan@example.ru")
    response = client.post(LOGIN, {"login": login, "password": FACTORY_PASSWORD})
    assert response.status_code == HTTPStatus.FOUND, text(response)[:2000]
    assert response["Location"] == CABINET
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_with_a_wrong_password_is_refused(client):
    UserFactory(phone=PHONE)
    response = client.post(LOGIN, {"login": PHONE, "password": "Wrong-Horse-42"})
    assert response.status_code == HTTPStatus.OK
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_ends_the_session(client):
    client.force_login(UserFactory())
    assert client.get(CABINET).status_code == HTTPStatus.OK
    response = client.post(LOGOUT)
    assert response.status_code == HTTPStatus.FOUND
    assert "_auth_user_id" not in client.session
    assert client.get(CABINET).status_code == HTTPStatus.FOUND


def test_cabinet_requires_sign_in(client):
    response = client.get(CABINET)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{LOGIN}?next={CABINET}"


def test_cabinet_shows_tier_and_contacts_in_russian(client):
    client.force_login(UserFactory(phone=PHONE, email="ivan@example.ru", email_confirmed=False))
    body = text(client.get(CABINET))
    assert "Мои данные" in body
    assert "Упрощённая" in body
    assert "+7 912 345-67-89" in body
    assert "ivan@example.ru" in body
    assert in_russian("confirmed") in body
    assert in_russian("not confirmed") in body


def test_cabinet_in_english(client):
    client.cookies["django_language"] = "en"
    client.force_login(UserFactory(phone=None, email="ivan@example.ru"))
    body = text(client.get(CABINET))
    assert "My data" in body
    assert "Simplified" in body
    assert "ivan@example.ru" in body
    assert "not given" in body  # no phone
