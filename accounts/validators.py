import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

_PERSON_NAME = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё' \-]*$")


def person_name_normalize(value: str) -> str:
    """A surname or given name as in a passport: letters, spaces, hyphens, apostrophes."""
    value = " ".join((value or "").split())
    if not value:
        raise ValidationError(_("This field is required."), code="required")
    if len(value) > 100 or not _PERSON_NAME.match(value):
        raise ValidationError(_("Use letters, spaces, hyphens and apostrophes only."), code="name_invalid")
    return value


class MaximumLengthValidator:
    """Caps password length: argon2 on a megabyte of input is a cheap denial of service."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must contain at most %(max_length)d character.",
            "Your password must contain at most %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}
