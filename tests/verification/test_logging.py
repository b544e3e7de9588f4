import logging

import pytest

from verification.logging import MaskPersonalDataFilter, mask_personal_data


def _record(msg: str, *args) -> logging.LogRecord:
    return logging.LogRecord("verification", logging.INFO, __file__, 1, msg, args or None, None)


@pytest.mark.parametrize(
    "phone",
    ["+79123456789", "89123456789", "8 912 345-67-89", "+7 (912) 345 67 89", "7-912-345-67-89"],
)
def test_phones_are_masked_in_any_spelling(phone):
    masked = mask_personal_data(f"code sent to {phone} ok")
    assert masked == "code sent to +7***89 ok"


def test_emails_are_masked_keeping_first_letter_and_domain():
    assert mask_personal_data("mail to ivan.petrov@mail.ru failed") == "mail to i***@mail.ru failed"


def test_text_without_personal_data_is_left_alone():
    text = "registration started: id=5f0c3c1e-7a0b-4c55-9d55-1b2f0e6a9c11 user=12345"
    assert mask_personal_data(text) == text


def test_filter_masks_arguments_of_a_record():
    record = _record("recovery for %s and %s", "+79123456789", "Ivan@Example.ru")
    assert MaskPersonalDataFilter().filter(record) is True
    message = record.getMessage()
    assert "9123456789" not in message
    assert "Ivan@" not in message
    assert message == "recovery for +7***89 and I***@Example.ru"


def test_filter_leaves_a_clean_record_untouched():
    record = _record("purged %d registrations", 3)
    MaskPersonalDataFilter().filter(record)
    assert record.msg == "purged %d registrations"
    assert record.args == (3,)


def test_filter_lets_a_malformed_record_through():
    record = _record("two args %s %s", "only one")
    assert MaskPersonalDataFilter().filter(record) is True


def test_console_handler_of_the_project_masks_what_it_writes():
    """The filter is wired into LOGGING, so a careless log call still leaks nothing."""
    masking = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters)
    ]
    assert masking, "no root handler masks personal data"
    record = _record("sms to %s", "+79123456789")
    assert masking[0].filter(record)
    assert record.getMessage() == "sms to +7***89"


def test_worker_names_are_not_taken_for_emails():
    from verification.logging import mask_personal_data

    assert mask_personal_data("celery@vm ready.") == "celery@vm ready."
