"""Tunables of registration and one-time codes, read lazily (like allauth's app_settings)."""

from django.conf import settings


class AppSettings:
    @property
    def CODE_TTL(self) -> int:
        """Seconds a code stays valid."""
        return settings.VERIFICATION_CODE_TTL

    @property
    def CODE_MAX_ATTEMPTS(self) -> int:
        """Wrong tries allowed per code."""
        return settings.VERIFICATION_CODE_MAX_ATTEMPTS

    @property
    def RESEND_COOLDOWN(self) -> int:
        """Seconds before a new code may be requested."""
        return settings.VERIFICATION_RESEND_COOLDOWN

    @property
    def SENDS_PER_CONTACT_PER_HOUR(self) -> int:
        return settings.VERIFICATION_SENDS_PER_CONTACT_PER_HOUR

    @property
    def STARTS_PER_IP_PER_HOUR(self) -> int:
        return settings.VERIFICATION_STARTS_PER_IP_PER_HOUR

    @property
    def REGISTRATION_TTL(self) -> int:
        """Seconds an unfinished registration or recovery may be continued."""
        return settings.VERIFICATION_REGISTRATION_TTL

    @property
    def DELIVERY_RETENTION_DAYS(self) -> int:
        """Days delivery records (with the phone or email) are kept for support."""
        return settings.VERIFICATION_DELIVERY_RETENTION_DAYS


app_settings = AppSettings()
