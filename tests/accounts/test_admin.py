"""What a support operator sees in the admin."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = User.objects.create_superuser(
        "staff@example.ru", "Staff-Password-42", surname="Оператор", first_name="Ольга"
    )
    client.force_login(staff)
    return client


def test_user_list_masks_contacts(staff_client):
    UserFactory(phone="+79123456789", email="ivan.petrov@mail.ru")

    page = staff_client.get(reverse("admin:accounts_user_changelist")).content.decode()

    assert "+7 912 ***-**-89" in page
    assert "i*********v@mail.ru" in page
    assert "+79123456789" not in page
    assert "ivan.petrov@mail.ru" not in page


@pytest.mark.parametrize("typed", ["8 912 345-67-89", "+7 (912) 345 67 89", "IVAN.PETROV@MAIL.RU"])
def test_staff_find_a_person_by_phone_or_email_as_dictated(staff_client, typed):
    wanted = UserFactory(phone="+79123456789", email="ivan.petrov@mail.ru", surname="Искомый")
    UserFactory(phone="+79161112233", surname="Другой")

    response = staff_client.get(reverse("admin:accounts_user_changelist"), {"q": typed})

    assert response.status_code == HTTPStatus.OK
    assert list(response.context["cl"].result_list) == [wanted]


def test_tier_cannot_be_edited_in_the_admin(staff_client):
    user = UserFactory()

    page = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()

    assert 'name="tier"' not in page


def test_registration_list_masks_contacts(staff_client):
    Client().post(
        reverse("verification:registration_start"),
        {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": "+79123456789", "email": ""},
    )

    page = staff_client.get(reverse("admin:verification_registration_changelist")).content.decode()

    assert "+7 912 ***-**-89" in page
    assert "+79123456789" not in page
