"""All allauth customisation lives here. allauth stores no phone numbers: these hooks
delegate to accounts' selectors and services."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse

from accounts import selectors
from accounts.phones import phone_parse_ru_mobile


def login_limit_key(login: str) -> str:
    """The failed-sign-in counter of one person, however the phone or email was spelt.

    Shared by the browser (allauth) and the API, so neither a second spelling of a number nor
    the other door gives another five tries.
    """
    login = (login or "").strip()
    if "@" not in login:
        try:
            return "login:" + phone_parse_ru_mobile(login)
        except ValidationError:
            pass
    return "login:" + login.lower()


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

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials) -> str:
        # allauth keys failed sign-ins by email or username only, so every phone sign-in
        # shared one counter: five wrong passwords for one number locked out all phones.
        login = credentials.get("phone") or credentials.get("email") or credentials.get("username") or ""
        return login_limit_key(login)

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


def login_failures_forget(request: HttpRequest, user) -> None:
    """After access recovery the person may sign in at once, whatever they tried before."""
    from allauth.core import ratelimit

    for contact in (str(user.phone or ""), user.email or ""):
        if contact:
            ratelimit.clear(request, action="login_failed", key=login_limit_key(contact))
