"""Refuse to serve without the secrets production needs (Zulip's get_mandatory_secret idea).

Settings only note what is missing, so that offline commands work on a fresh checkout; the
processes that serve people or handle codes call require_secrets() before they start.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def _missing_message() -> str:
    names = ", ".join(settings.MISSING_SECRETS)
    return (
        f"{names} not set. Production refuses to start without them; "
        "for local development set DJANGO_DEBUG=1 (make run does)."
    )


def require_secrets() -> None:
    if settings.MISSING_SECRETS:
        raise ImproperlyConfigured(_missing_message())


@checks.register(checks.Tags.security, deploy=True)
def check_secrets(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.MISSING_SECRETS:
        return [checks.Error(_missing_message(), id="config.E001")]
    return []
