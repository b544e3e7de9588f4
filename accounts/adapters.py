"""All allauth customisation lives here. allauth stores no phone numbers: these hooks
delegate to accounts' selectors and services."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse

from accounts import selectors
from accounts.phones import phone_parse_ru_mobile


class RussianMobileField(forms.CharField):
    """Accepts any usual spelling of a Russian mobile number; cleans to E.164."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return phone_parse_ru_mobile(value) if value else value


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Registration is verification.views.registration_start, not allauth's signup.
        return False

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return reverse("verification:registration_start")

    def phone_form_field(self, **kwargs):
        return RussianMobileField(**kwargs)

    def get_user_by_phone(self, phone: str):
        try:
            phone = phone_parse_ru_mobile(phone)
        except ValidationError:
            return None
        return selectors.user_get_by_phone(phone=phone)

    def get_phone(self, user) -> tuple[str, bool] | None:
        if not user.phone:
            return None
        return str(user.phone), user.phone_confirmed

    def set_phone(self, user, phone: str, verified: bool) -> None:
        # Contacts change through accounts services (and a confirmation code), not allauth forms.
        raise NotImplementedError("phone changes go through accounts.services")

    def set_phone_verified(self, user, phone: str) -> None:
        raise NotImplementedError("phone confirmation goes through verification.services")

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        raise NotImplementedError("codes are sent by verification.services")
