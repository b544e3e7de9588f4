"""Failed sign-in limits of the browser (allauth, through accounts.adapters) and their sharing with the API."""

from http import HTTPStatus

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.adapters import login_limit_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_PAGE = reverse("account_login")


def browser_login(client, login: str, password: str = "Correct-Horse-42", ip: str = "10.0.0.1"):
    return client.post(LOGIN_PAGE, {"login": login, "password": password}, REMOTE_ADDR=ip)


def test_browser_sign_in_by_phone_reaches_the_cabinet(client):
    UserFactory(phone="+79123456789")

    response = browser_login(client, "8 912 345-67-89")

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:cabinet")


def test_browser_failed_sign_ins_of_one_phone_do_not_lock_out_another_phone(client):
    UserFactory(phone="+79123456789")
    UserFactory(phone="+79123456780")
    for _attempt in range(5):
        assert browser_login(client, "+79123456789", "Wrong-Horse-42").status_code == HTTPStatus.OK

    response = browser_login(client, "+79123456780", ip="10.0.0.2")

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:cabinet")


def test_browser_failed_sign_ins_are_limited_per_phone_whatever_the_spelling(client):
    UserFactory(phone="+79123456789")
    for spelling in ("+79123456789", "89123456789", "8 912 345 67 89", "+7 (912) 345-67-89", "79123456789"):
        browser_login(client, spelling, "Wrong-Horse-42")

    response = browser_login(client, "8(912)3456789", ip="10.0.0.2")  # the right password, another address

    assert response.status_code == HTTPStatus.OK  # the form again, not the cabinet
    assert "_auth_user_id" not in client.session


def test_api_and_browser_share_the_failed_sign_in_limit(client):
    UserFactory(phone="+79123456789")
    api = APIClient(REMOTE_ADDR="10.0.0.3")
    for _attempt in range(5):
        api.post(reverse("api:login"), {"login": "89123456789", "password": "Wrong-Horse-42"}, format="json")

    response = browser_login(client, "+7 912 345-67-89", ip="10.0.0.4")

    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("8 (912) 345-67-89", "login:+79123456789"),
        ("+79123456789", "login:+79123456789"),
        (" Owner@Example.RU ", "login:owner@example.ru"),
        ("+7 701 234 56 78", "login:+7 701 234 56 78"),  # not ours to normalise: kept as typed
    ],
)
def test_login_limit_key_is_one_per_person(spelling, key):
    assert login_limit_key(spelling) == key


@pytest.mark.django_db(transaction=True)
def test_access_recovery_lifts_the_failed_sign_in_lock(client, last_sms_code):
    UserFactory(phone="+79123456789")
    for _attempt in range(5):
        browser_login(client, "+79123456789", "Wrong-Horse-42")
    assert browser_login(client, "+79123456789", ip="10.0.0.2").status_code == HTTPStatus.OK  # locked

    client.post(reverse("verification:recovery_start"), {"contact": "8 912 345-67-89"}, REMOTE_ADDR="10.0.0.5")
    client.post(reverse("verification:recovery_code"), {"code": last_sms_code()})
    client.post(
        reverse("verification:recovery_password"),
        {"password": "Brand-New-Meadow-7", "password_confirm": "Brand-New-Meadow-7"},
    )
    client.logout()

    response = browser_login(client, "+79123456789", "Brand-New-Meadow-7", ip="10.0.0.6")

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:cabinet")
