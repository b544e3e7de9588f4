import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.regions import REGIONS


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class Purpose(models.TextChoices):
    REGISTRATION = "registration", _("Registration")
    RECOVERY = "recovery", _("Access recovery")


class Notice(models.TextChoices):
    """What goes out instead of a code, so that a stranger learns nothing about the contact."""

    NONE = "", _("Code")
    ACCOUNT_EXISTS = "account_exists", _("Someone tried to register with this contact")
    UNKNOWN_ACCOUNT = "unknown_account", _("No account with this contact")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Registration(models.Model):
    """A registration in progress; becomes an account when every given contact is confirmed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    surname = models.CharField(_("surname"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    region = models.CharField(_("region"), max_length=2, choices=REGIONS)
    phone = models.CharField(_("mobile phone"), max_length=16, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone_confirmed_at = models.DateTimeField(null=True, blank=True)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    password_hash = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=8, default="ru")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.CheckConstraint(condition=~models.Q(phone="") | ~models.Q(email=""), name="registration_has_contact")
        ]

    def __str__(self) -> str:
        return str(self.id)


class Recovery(models.Model):
    """An access recovery in progress. ``user`` is empty when nobody owns the contact."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=254)
    language = models.CharField(max_length=8, default="ru")
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("access recovery")
        verbose_name_plural = _("access recoveries")

    def __str__(self) -> str:
        return str(self.id)


class OneTimeCode(models.Model):
    """A six-digit code, kept only as a salted HMAC; or, with ``notice``, a decoy never sent."""

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    flow_id = models.UUIDField(db_index=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=254)
    notice = models.CharField(max_length=32, choices=Notice.choices, blank=True)
    language = models.CharField(max_length=8, default="ru")
    salt = models.CharField(max_length=32, blank=True)
    code_hmac = models.CharField(max_length=128, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    delivery_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["target", "created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.flow_id}:{self.channel}"


class Delivery(models.Model):
    """One SMS or email handed to a gateway, with what the gateway told about it later."""

    code = models.ForeignKey(OneTimeCode, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=254)
    kind = models.CharField(max_length=32)
    backend = models.CharField(max_length=64)
    provider_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} {self.status}"
