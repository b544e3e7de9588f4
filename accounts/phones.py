"""Phone parsing: anything a person types in, out comes E.164 of a Russian mobile number."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_INPUT_LENGTH = 32


def phone_parse_ru_mobile(raw: str) -> str:
    """Return the E.164 form of a Russian mobile number or raise ValidationError.

    Accepts the usual ways of writing it: ``8 912 345-67-89``, ``+7 (912) 345 67 89``,
    ``79123456789``. Numbers of Kazakhstan share +7 (+7 7xx) and are rejected.
    """
    raw = (raw or "").strip()
    # phonenumbers reads letters as a keypad ("8 912 ABC-67-89" -> +7 912 222-67-89), which
    # would send a code to somebody else's number: a Russian mobile is written in digits.
    if not raw or len(raw) > MAX_INPUT_LENGTH or any(ch.isalpha() for ch in raw):
        raise ValidationError(_("Enter a mobile phone number, for example +7 912 345-67-89."), code="phone_invalid")
    try:
        number = phonenumbers.parse(raw, "RU")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Enter a mobile phone number, for example +7 912 345-67-89."), code="phone_invalid"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("This phone number does not exist. Check the digits, for example +7 912 345-67-89."),
            code="phone_invalid",
        )
    if phonenumbers.region_code_for_number(number) != "RU":
        raise ValidationError(_("Only Russian mobile numbers (+7 9xx) can receive our SMS."), code="phone_not_russian")
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise ValidationError(
            _("This is not a mobile number: SMS codes can only be sent to a mobile phone."),
            code="phone_not_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_mask(e164: str) -> str:
    """+79123456789 -> +7 912 ***-**-89: enough to recognise one's own number, no more."""
    if not e164:
        return ""
    digits = e164.lstrip("+")
    if len(digits) == 11 and digits.startswith("7"):
        return f"+7 {digits[1:4]} ***-**-{digits[-2:]}"
    return e164[:3] + "*" * max(len(e164) - 5, 0) + e164[-2:]


def email_mask(email: str) -> str:
    """ivan.petrov@mail.ru -> i********v@mail.ru"""
    if not email or "@" not in email:
        return ""
    local, _sep, domain = email.rpartition("@")
    if len(local) <= 2:
        return f"{local[:1]}*@{domain}"
    return f"{local[0]}{'*' * (len(local) - 2)}{local[-1]}@{domain}"


def contact_mask(contact: str) -> str:
    """Mask a phone or an email, whichever it is."""
    contact = str(contact or "")
    if not contact:
        return ""
    return email_mask(contact) if "@" in contact else phone_mask(contact)
