from django.urls import path

from verification import views

app_name = "verification"

urlpatterns = [
    path("register/", views.registration_start, name="registration_start"),
    path("register/code/", views.registration_code, name="registration_code"),
    path("register/code/resend/", views.registration_resend, name="registration_resend"),
    path("register/contact/drop/", views.registration_contact_drop, name="registration_contact_drop"),
    path("register/password/", views.registration_password, name="registration_password"),
    path("register/email/<uuid:flow_id>/<str:code>/", views.registration_email_link, name="registration_email_link"),
    path("recover/", views.recovery_start, name="recovery_start"),
    path("recover/code/", views.recovery_code, name="recovery_code"),
    path("recover/code/resend/", views.recovery_resend, name="recovery_resend"),
    path("recover/password/", views.recovery_password, name="recovery_password"),
    path("hooks/twilio/status/", views.twilio_status, name="twilio_status"),
]
