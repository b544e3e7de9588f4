"""Routed only when DEBUG is on (see config/urls.py)."""

from django.urls import path

from verification import views

urlpatterns = [path("sms/", views.dev_sms_outbox, name="dev_sms")]
