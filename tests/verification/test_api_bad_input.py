"""Malformed requests get a 400 with the error shape, never a 500."""

from http import HTTPStatus

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from verification.models import Registration

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "body",
    [
        [1, 2, 3],
        {"surname": ["Петров"], "first_name": "Пётр", "region": "77", "phone": "+79123456789"},
        {"surname": "Петров", "first_name": "Пётр", "region": 77.5, "phone": "+79123456789"},
        {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": {"n": 1}},
        {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": "9" * 5000},
    ],
)
def test_malformed_registration_start_is_a_clear_400(body):
    response = APIClient().post(reverse("api:registration-start"), body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"]
    assert not Registration.objects.exists()


def test_code_of_the_wrong_type_is_a_clear_400(sms_outbox):
    api = APIClient()
    started = api.post(
        reverse("api:registration-start"),
        {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": "+79123456789"},
        format="json",
    ).json()

    for code in (["123456"], {"a": 1}, "1" * 100):
        response = api.post(
            reverse("api:registration-code", kwargs={"pk": started["id"]}), {"code": code}, format="json"
        )
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"]["code"]


def test_broken_json_is_a_clear_400():
    response = APIClient().post(reverse("api:registration-start"), data="{not json", content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"]["non_field_errors"][0]["code"] == "parse_error"
