from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from accounts.regions import REGIONS


class Tier(models.TextChoices):
    SIMPLIFIED = "simplified", _("Simplified")
    STANDARD = "standard", _("Standard")
    CONFIRMED = "confirmed", _("Confirmed")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_superuser(self, email: str, password: str, **extra):
        """Staff accounts for the admin; citizens are created by accounts.services.user_create."""
        user = self.model(
            email=self.normalize_email(email).lower(),
            email_confirmed=True,
            is_staff=True,
            is_superuser=True,
            **extra,
        )
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    surname = models.CharField(_("surname"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=2, choices=REGIONS, blank=True)
    phone = PhoneNumberField(_("mobile phone"), unique=True, null=True, blank=True)
    phone_confirmed = models.BooleanField(_("phone confirmed"), default=False)
    # Stored lower-cased by the services; the functional constraint below is the guarantee.
    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    email_confirmed = models.BooleanField(_("email confirmed"), default=False)
    # Changed only through accounts.services.user_tier_change, which writes a TierChange.
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.SIMPLIFIED)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(phone__isnull=False) | models.Q(email__isnull=False),
                name="accounts_user_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.surname} {self.first_name}".strip() or f"#{self.pk}"

    def get_full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.first_name, self.patronymic) if p)

    def get_short_name(self) -> str:
        return self.first_name


class TierChange(models.Model):
    """Audit row: who or what changed a tier, when and why."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tier_changes")
    old_tier = models.CharField(_("old tier"), max_length=16, choices=Tier.choices, blank=True)
    new_tier = models.CharField(_("new tier"), max_length=16, choices=Tier.choices)
    reason = models.CharField(_("reason"), max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.old_tier or '-'} → {self.new_tier}"
