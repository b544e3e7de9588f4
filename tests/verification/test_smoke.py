from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.models import User


@pytest.mark.django_db(transaction=True)
def test_browser_registration_with_phone(client, last_sms_code):
    response = client.post(
        reverse("verification:registration_start"),
        {"surname": "Петров", "first_name": "Пётр", "region": "77", "phone": "8 912 345-67-89", "email": ""},
    )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:3000]
    page = client.get(reverse("verification:registration_code"))
    assert "one-time-code" in page.content.decode()
    response = client.post(reverse("verification:registration_code"), {"code": last_sms_code()})
    assert response.url == reverse("verification:registration_password")
    response = client.post(
        reverse("verification:registration_password"),
        {"password": "Sunny-Meadow-914", "password_confirm": "Sunny-Meadow-914"},
    )
    assert response.url == reverse("accounts:cabinet")
    user = User.objects.get()
    assert str(user.phone) == "+79123456789"
    cabinet = client.get(reverse("accounts:cabinet"))
    assert "Упрощённая" in cabinet.content.decode() or "Simplified" in cabinet.content.decode()
