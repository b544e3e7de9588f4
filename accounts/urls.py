from django.urls import path
from django.views.generic import RedirectView

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("cabinet/", views.cabinet, name="cabinet"),
    # allauth's signup is closed; its link leads to our registration.
    path("accounts/signup/", RedirectView.as_view(pattern_name="verification:registration_start"), name="signup"),
]
