from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import TierChange, User
from accounts.phones import email_mask, phone_mask, phone_parse_ru_mobile


class ContactSearchMixin:
    """Staff type phones the way people dictate them ("8 912 345-67-89"); rows hold E.164."""

    def get_search_results(self, request, queryset, search_term):
        try:
            search_term = phone_parse_ru_mobile(search_term)
        except ValidationError:
            search_term = search_term.strip().lower() if "@" in search_term else search_term
        return super().get_search_results(request, queryset, search_term)


class TierChangeInline(admin.TabularInline):
    model = TierChange
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ("created_at", "old_tier", "new_tier", "reason", "actor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(ContactSearchMixin, DjangoUserAdmin):
    ordering = ("-date_joined",)
    # Lists show contacts masked; staff find a person by the exact phone or email in search.
    list_display = ("id", "surname", "first_name", "tier", "masked_phone", "masked_email", "is_active", "date_joined")
    list_filter = ("tier", "is_active", "is_staff", "phone_confirmed", "email_confirmed")
    search_fields = ("=phone", "=email", "surname")
    # The tier changes only through accounts.services.user_tier_change (audited).
    readonly_fields = ("tier", "date_joined", "last_login")
    inlines = [TierChangeInline]

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, user: User) -> str:
        return phone_mask(str(user.phone)) if user.phone else "—"

    @admin.display(description=_("email"))
    def masked_email(self, user: User) -> str:
        return email_mask(user.email) if user.email else "—"

    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("surname", "first_name", "patronymic", "region")}),
        (_("Contacts"), {"fields": ("phone", "phone_confirmed", "email_confirmed")}),
        (_("Tier"), {"fields": ("tier",)}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "surname", "first_name", "password1", "password2")}),
    )


@admin.register(TierChange)
class TierChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "old_tier", "new_tier", "reason", "actor")
    list_filter = ("new_tier",)
    readonly_fields = ("user", "old_tier", "new_tier", "reason", "actor", "created_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
