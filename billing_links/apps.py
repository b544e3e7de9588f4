from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingLinksConfig(AppConfig):
    name = "billing_links"
    verbose_name = _("Billing accounts")
