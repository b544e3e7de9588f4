from django.core.management.base import BaseCommand

from verification import services


class Command(BaseCommand):
    help = (
        "Delete unfinished registrations and recoveries older than VERIFICATION_REGISTRATION_TTL, "
        "their codes, and expired codes. Beat runs this every 15 minutes; safe to run by hand."
    )

    def handle(self, *args, **options):
        purged = services.registrations_purge()
        self.stdout.write(f"Purged {purged} abandoned registrations and recoveries.")
