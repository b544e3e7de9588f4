import pytest
from django.core.exceptions import ValidationError

from accounts.phones import email_mask, phone_mask, phone_parse_ru_mobile


@pytest.mark.parametrize(
    "typed",
    [
        "8 912 345-67-89",
        "+7 (912) 345 67 89",
        "79123456789",
        "89123456789",
        "+79123456789",
        "  8(912)3456789  ",
    ],
)
def test_parse_accepts_usual_spellings_of_a_russian_mobile(typed):
    assert phone_parse_ru_mobile(typed) == "+79123456789"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "phone_invalid"),
        ("   ", "phone_invalid"),
        ("abc", "phone_invalid"),
        ("телефон", "phone_invalid"),
        # A keypad reading of letters would turn this into +7 912 222-67-89, someone else's number.
        ("8 912 ABC-67-89", "phone_invalid"),
        ("8 912 345-67-8O", "phone_invalid"),
        ("8912345", "phone_invalid"),
        ("8 912 345-67-890", "phone_invalid"),
        ("+7 912 345 67 89 12345678901234567890", "phone_invalid"),
        ("+7 701 123 45 67", "phone_not_russian"),
        ("+7 495 123-45-67", "phone_not_mobile"),
    ],
)
def test_parse_rejects_what_is_not_a_russian_mobile(typed, code):
    with pytest.raises(ValidationError) as excinfo:
        phone_parse_ru_mobile(typed)
    assert excinfo.value.code == code
    assert str(excinfo.value.messages[0])  # a message a person can read, not just a code


def test_kazakh_number_is_refused_with_a_message_about_russian_numbers():
    with pytest.raises(ValidationError) as excinfo:
        phone_parse_ru_mobile("+7 701 123 45 67")
    assert "+7 9" in excinfo.value.messages[0]


def test_phone_mask_keeps_operator_code_and_last_two_digits():
    assert phone_mask("+79123456789") == "+7 912 ***-**-89"


def test_phone_mask_of_nothing_is_empty():
    assert phone_mask("") == ""


def test_phone_mask_of_a_foreign_number_hides_the_middle():
    masked = phone_mask("+380501234567")
    assert masked.startswith("+38")
    assert masked.endswith("67")
    assert "5012345" not in masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("ivan.petrov@mail.ru", "i*********v@mail.ru"),
        ("ab@example.ru", "a*@example.ru"),
        ("a@example.ru", "a*@example.ru"),
        ("", ""),
        ("not-an-email", ""),
    ],
)
def test_email_mask_hides_the_local_part(email, masked):
    assert email_mask(email) == masked
