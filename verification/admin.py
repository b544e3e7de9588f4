from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import ContactSearchMixin
from accounts.phones import contact_mask
from verification.models import Delivery, OneTimeCode, Recovery, Registration


class ReadOnlyAdmin(ContactSearchMixin, admin.ModelAdmin):
    """Verification records are evidence: staff read them, nobody edits them by hand.

    Lists show contacts masked; staff find a record by the exact phone or email in search.
    """

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _masked(field: str, label: str):
    @admin.display(description=label)
    def column(obj) -> str:
        return contact_mask(getattr(obj, field)) or "—"

    return column


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        _masked("phone", _("mobile phone")),
        _masked("email", _("email")),
        "phone_confirmed_at",
        "email_confirmed_at",
        "completed_at",
    )
    search_fields = ("=phone", "=email")
    exclude = ("password_hash",)


@admin.register(Recovery)
class RecoveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "channel",
        _masked("target", _("sent to")),
        "user",
        "verified_at",
        "completed_at",
    )
    search_fields = ("=target",)


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "purpose",
        "channel",
        _masked("target", _("sent to")),
        "notice",
        "attempts",
        "created_at",
        "sent_at",
        "consumed_at",
        "delivery_failed_at",
    )
    list_filter = ("purpose", "channel", "notice")
    search_fields = ("=target", "=flow_id")
    exclude = ("salt", "code_hmac")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "channel", "kind", _masked("target", _("sent to")), "backend", "status", "error")
    list_filter = ("channel", "status", "kind")
    search_fields = ("=target", "=provider_id")
