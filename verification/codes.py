"""One-time code primitives: generation, salted HMAC, constant-time comparison."""

import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

CODE_LENGTH = 6


def code_generate() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def salt_generate() -> str:
    return secrets.token_hex(16)


def code_digest(*, salt: str, code: str) -> str:
    return salted_hmac("verification.code", f"{salt}:{code}", secret=settings.PII_KEY, algorithm="sha256").hexdigest()


def code_matches(*, salt: str, digest: str, code: str) -> bool:
    if not digest or not salt:
        # Still spend an HMAC so a decoy or an unsent code answers as fast as a real one.
        constant_time_compare(code_digest(salt="-", code=code), "-")
        return False
    return constant_time_compare(code_digest(salt=salt, code=code), digest)


def code_normalize(raw: str) -> str:
    """People paste '123 456' or '123-456'; only digits count."""
    return "".join(ch for ch in (raw or "") if ch.isdigit())
