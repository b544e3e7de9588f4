from django.urls import path
from django.views.generic import RedirectView

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("cabinet/", views.cabinet, name="cabinet"),
    # allauth's own signup, password reset and contact management are replaced by ours
    # (registration, access recovery by SMS or email code, contacts held on accounts.User);
    # their URLs lead to our pages so that no second way of changing contacts exists.
    path("accounts/signup/", RedirectView.as_view(pattern_name="verification:registration_start"), name="signup"),
    path("accounts/password/reset/", RedirectView.as_view(pattern_name="verification:recovery_start")),
    path("accounts/email/", RedirectView.as_view(pattern_name="accounts:cabinet")),
]
