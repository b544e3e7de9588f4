import re

import pytest
from django.core import mail

from verification import sms


def _cache_clear_own_keys() -> None:
    """Forget rate-limit counters of this run only.

    On Redis, cache.clear() is FLUSHDB, which would wipe every other run sharing the server;
    test settings give each run its own key prefix, so delete just those keys.
    """
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{backend.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        backend.clear()


@pytest.fixture(autouse=True)
def _isolated_outboxes_and_cache():
    """Every test starts with an empty SMS outbox and fresh rate-limit counters."""
    sms.outbox.clear()
    mail.outbox.clear()
    _cache_clear_own_keys()
    yield
    sms.outbox.clear()


@pytest.fixture
def sms_outbox() -> list:
    return sms.outbox


def code_from_text(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, f"no six-digit code in {text!r}"
    return match.group(1)


@pytest.fixture
def last_sms_code(sms_outbox):
    def _last() -> str:
        assert sms_outbox, "no SMS was sent"
        return code_from_text(sms_outbox[-1].body)

    return _last


@pytest.fixture
def last_email_code():
    def _last() -> str:
        assert mail.outbox, "no email was sent"
        return code_from_text(mail.outbox[-1].body)

    return _last
