"""Writes to accounts. Every other app changes accounts only through these functions."""

import logging

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Tier, TierChange, User

logger = logging.getLogger(__name__)


class ContactTaken(Exception):
    """The phone or email already belongs to another account."""


@transaction.atomic
def user_create(
    *,
    surname: str,
    first_name: str,
    region: str,
    phone: str | None,
    email: str | None,
    password_hash: str,
    phone_confirmed: bool,
    email_confirmed: bool,
    reason: str,
) -> User:
    """Create a simplified account from a finished registration.

    ``password_hash`` is already hashed: a registration hashes the password exactly once.
    Raises ContactTaken when another account got the phone or email first; the unique
    constraints decide, so two racing registrations cannot both succeed.
    """
    user = User(
        surname=surname,
        first_name=first_name,
        region=region,
        phone=phone or None,
        phone_confirmed=bool(phone) and phone_confirmed,
        email=email.lower() if email else None,
        email_confirmed=bool(email) and email_confirmed,
        password=password_hash,
        tier=Tier.SIMPLIFIED,
    )
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ContactTaken from exc
    TierChange.objects.create(user=user, old_tier="", new_tier=Tier.SIMPLIFIED, reason=reason)
    logger.info("account created: user=%s tier=%s", user.pk, user.tier)
    return user


@transaction.atomic
def user_tier_change(*, user: User, new_tier: str, reason: str, actor: User | None = None) -> User:
    """The one door through which a tier changes; writes the TierChange audit row."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    old_tier = locked.tier
    if old_tier == new_tier:
        return locked
    locked.tier = new_tier
    locked.save(update_fields=["tier"])
    TierChange.objects.create(
        user=locked,
        old_tier=old_tier,
        new_tier=new_tier,
        reason=reason,
        actor=actor,
        created_at=timezone.now(),
    )
    logger.info("tier changed: user=%s %s -> %s (%s)", locked.pk, old_tier, new_tier, reason)
    user.tier = new_tier
    return locked


def user_password_set(*, user: User, password: str) -> None:
    """Set a new (already validated) password, e.g. after access recovery."""
    user.password = make_password(password)
    user.save(update_fields=["password"])
