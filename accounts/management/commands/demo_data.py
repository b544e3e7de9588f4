from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError

from accounts import selectors, services
from accounts.models import User

DEMO_PASSWORD = "demo-Password-2026"  # noqa: S105 (demo data, DEBUG only)
DEMO_PHONE = "+79990000001"
DEMO_EMAIL = "demo@example.ru"
ADMIN_EMAIL = "admin@example.ru"


class Command(BaseCommand):
    help = "Load demo accounts for local development (DEBUG only; safe to run again)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_data only runs with DJANGO_DEBUG=1: it creates accounts with known passwords.")
        if selectors.user_get_by_phone(phone=DEMO_PHONE) is None:
            services.user_create(
                surname="Демонстрационный",
                first_name="Гражданин",
                region="77",
                phone=DEMO_PHONE,
                email=DEMO_EMAIL,
                password_hash=make_password(DEMO_PASSWORD),
                phone_confirmed=True,
                email_confirmed=True,
                reason="demo data",
            )
        if not User.objects.filter(email=ADMIN_EMAIL).exists():
            User.objects.create_superuser(ADMIN_EMAIL, DEMO_PASSWORD, surname="Оператор", first_name="Поддержки")
        self.stdout.write(
            "Demo data ready.\n"
            f"  citizen: {DEMO_PHONE} or {DEMO_EMAIL}, password {DEMO_PASSWORD}\n"
            f"  staff (/admin/): {ADMIN_EMAIL}, password {DEMO_PASSWORD}\n"
            "  SMS outbox: http://127.0.0.1:8000/dev/sms/"
        )
