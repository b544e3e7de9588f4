from django.contrib import admin

from verification.models import Delivery, OneTimeCode, Recovery, Registration


class ReadOnlyAdmin(admin.ModelAdmin):
    """Verification records are evidence: staff read them, nobody edits them by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "phone", "email", "phone_confirmed_at", "email_confirmed_at", "completed_at")
    search_fields = ("=phone", "email")
    exclude = ("password_hash",)


@admin.register(Recovery)
class RecoveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "channel", "target", "user", "verified_at", "completed_at")
    search_fields = ("=target",)


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "purpose",
        "channel",
        "target",
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
    list_display = ("created_at", "channel", "kind", "target", "backend", "status", "error")
    list_filter = ("channel", "status", "kind")
    search_fields = ("=target", "=provider_id")
