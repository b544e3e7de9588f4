from django.urls import path

from accounts import api as accounts_api
from verification import api as verification_api

app_name = "api"

urlpatterns = [
    path("registrations/", verification_api.RegistrationStartView.as_view(), name="registration-start"),
    path("registrations/<uuid:pk>/", verification_api.RegistrationDetailView.as_view(), name="registration-detail"),
    path("registrations/<uuid:pk>/code/", verification_api.RegistrationCodeView.as_view(), name="registration-code"),
    path(
        "registrations/<uuid:pk>/code/resend/",
        verification_api.RegistrationResendView.as_view(),
        name="registration-resend",
    ),
    path(
        "registrations/<uuid:pk>/password/",
        verification_api.RegistrationPasswordView.as_view(),
        name="registration-password",
    ),
    path(
        "registrations/<uuid:pk>/contact/drop/",
        verification_api.RegistrationContactDropView.as_view(),
        name="registration-contact-drop",
    ),
    path("recoveries/", verification_api.RecoveryStartView.as_view(), name="recovery-start"),
    path("recoveries/<uuid:pk>/code/", verification_api.RecoveryCodeView.as_view(), name="recovery-code"),
    path("recoveries/<uuid:pk>/code/resend/", verification_api.RecoveryResendView.as_view(), name="recovery-resend"),
    path("recoveries/<uuid:pk>/password/", verification_api.RecoveryPasswordView.as_view(), name="recovery-password"),
    path("auth/login/", accounts_api.LoginView.as_view(), name="login"),
    path("auth/logout/", accounts_api.LogoutView.as_view(), name="logout"),
    path("me/", accounts_api.MeView.as_view(), name="me"),
]
