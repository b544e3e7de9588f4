from django.db.models import Q

from accounts.models import Tier, User


def user_get_by_phone(*, phone: str) -> User | None:
    return User.objects.filter(phone=phone).first() if phone else None


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first() if email else None


def contact_is_taken(*, phone: str | None = None, email: str | None = None) -> bool:
    """Whether an account already holds this phone or email (both checked in one query)."""
    condition = Q(pk__in=[])
    if phone:
        condition |= Q(phone=phone)
    if email:
        condition |= Q(email__iexact=email.strip())
    return User.objects.filter(condition).exists()


NEXT_TIER_REQUIREMENTS = {
    Tier.SIMPLIFIED: Tier.STANDARD,
    Tier.STANDARD: Tier.CONFIRMED,
}


def user_next_tier(*, user: User) -> str | None:
    return NEXT_TIER_REQUIREMENTS.get(user.tier)
