import logging
import re

# Phone numbers (+7 and 11 digits in any spacing) and email addresses in log messages.
_PHONE = re.compile(r"(?<!\d)(\+?7|8)[\s\-()]*\d{3}[\s\-()]*\d{3}[\s\-]*\d{2}[\s\-]*(\d{2})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def mask_personal_data(text: str) -> str:
    text = _PHONE.sub(lambda m: f"+7***{m.group(2)}", text)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


class MaskPersonalDataFilter(logging.Filter):
    """Masks phones and emails in every log line, whatever the caller passed in."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is
            return True
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
