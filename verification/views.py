"""Browser views of registration and access recovery: thin callers of verification.services."""

import hmac
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.adapters import login_failures_forget
from verification import services
from verification.forms import (
    CodeForm,
    PasswordForm,
    RecoveryStartForm,
    RegistrationStartForm,
    form_add_service_error,
)
from verification.models import Purpose
from verification.services import FlowError, Step

logger = logging.getLogger(__name__)

SESSION_REGISTRATION = "registration_id"
SESSION_RECOVERY = "recovery_id"
AUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"

STEP_URLS = {
    Step.PHONE: "verification:registration_code",
    Step.EMAIL: "verification:registration_code",
    Step.PASSWORD: "verification:registration_password",
}


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind TRUSTED_PROXY_COUNT proxies, taken from X-Forwarded-For."""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def _language() -> str:
    return (get_language() or settings.LANGUAGE_CODE)[:2]


def _current_registration(request: HttpRequest):
    registration_id = request.session.get(SESSION_REGISTRATION)
    if not registration_id:
        return None
    try:
        return services.registration_get(registration_id=registration_id)
    except FlowError as exc:
        request.session.pop(SESSION_REGISTRATION, None)
        messages.error(request, exc.message)
        return None


def _after_registration_step(request: HttpRequest, registration) -> HttpResponse:
    step = services.registration_next_step(registration)
    if step == Step.DONE:
        request.session.pop(SESSION_REGISTRATION, None)
        login(request, registration.user, backend=AUTH_BACKEND)
        messages.success(request, _("Registration complete. Your account has the simplified tier."))
        return redirect("accounts:cabinet")
    return redirect(STEP_URLS[step])


def registration_start(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:cabinet")
    form = RegistrationStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.registration_start(
                surname=form.cleaned_data["surname"],
                first_name=form.cleaned_data["first_name"],
                region=form.cleaned_data["region"],
                phone=form.cleaned_data["phone"],
                email=form.cleaned_data["email"],
                ip=client_ip(request),
                language=_language(),
            )
        except (FlowError, ValidationError) as exc:
            form_add_service_error(form, exc)
        else:
            request.session[SESSION_REGISTRATION] = str(registration.pk)
            return redirect("verification:registration_code")
    return render(request, "verification/registration_start.html", {"form": form})


def _code_page(request, *, template: str, form, flow, purpose: str, extra: dict) -> HttpResponse:
    if form.is_bound and form.errors:
        # A rejected code is typed again from scratch; keeping it only invites editing digits.
        form.data = form.data.copy()
        form.data["code"] = ""
    code = services.code_current(purpose=purpose, flow_id=flow.pk)
    context = {"form": form, "state": services.code_state(code), **extra}
    return render(request, template, context)


def registration_code(request: HttpRequest) -> HttpResponse:
    registration = _current_registration(request)
    if registration is None:
        return redirect("verification:registration_start")
    step = services.registration_next_step(registration)
    if step not in (Step.PHONE, Step.EMAIL):
        return _after_registration_step(request, registration)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.registration_code_confirm(registration=registration, code=form.cleaned_data["code"])
        except FlowError as exc:
            form_add_service_error(form, exc)
            if exc.code == "contact_taken":
                request.session.pop(SESSION_REGISTRATION, None)
        else:
            return _after_registration_step(request, registration)
    return _code_page(
        request,
        template="verification/registration_code.html",
        form=form,
        flow=registration,
        purpose=Purpose.REGISTRATION,
        extra={
            "registration": registration,
            "step": step,
            "resend_url": reverse("verification:registration_resend"),
            # The other contact to fall back on when this one gets no messages.
            "fallback": (
                ("email" if step == Step.PHONE else "phone_only") if registration.phone and registration.email else ""
            ),
        },
    )


@require_POST
def registration_resend(request: HttpRequest) -> HttpResponse:
    registration = _current_registration(request)
    if registration is None:
        return redirect("verification:registration_start")
    try:
        services.registration_code_resend(registration=registration)
    except FlowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("A new code has been sent. The previous one no longer works."))
    return redirect("verification:registration_code")


@require_POST
def registration_contact_drop(request: HttpRequest) -> HttpResponse:
    """«Use my email instead» / «finish without email» when messages do not arrive."""
    registration = _current_registration(request)
    if registration is None:
        return redirect("verification:registration_start")
    try:
        registration = services.registration_contact_drop(
            registration=registration, contact=request.POST.get("contact", "")
        )
    except FlowError as exc:
        messages.error(request, exc.message)
        return redirect("verification:registration_code")
    return _after_registration_step(request, registration)


def registration_password(request: HttpRequest) -> HttpResponse:
    registration = _current_registration(request)
    if registration is None:
        return redirect("verification:registration_start")
    if services.registration_next_step(registration) != Step.PASSWORD:
        return _after_registration_step(request, registration)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.registration_password_set(
                registration=registration,
                password=form.cleaned_data["password"],
                password_confirm=form.cleaned_data["password_confirm"],
            )
        except (FlowError, ValidationError) as exc:
            form_add_service_error(form, exc)
            if isinstance(exc, FlowError) and exc.code == "contact_taken":
                request.session.pop(SESSION_REGISTRATION, None)
        else:
            if services.registration_next_step(registration) == Step.EMAIL:
                messages.info(request, _("Password saved. One step left: confirm your email."))
            return _after_registration_step(request, registration)
    return render(request, "verification/registration_password.html", {"form": form, "registration": registration})


def registration_email_link(request: HttpRequest, flow_id, code: str) -> HttpResponse:
    """The link from the confirmation email. GET shows a button, POST confirms.

    Confirming on POST only keeps mail scanners that prefetch links from using up the code.
    """
    try:
        registration = services.registration_get(registration_id=flow_id)
    except FlowError as exc:
        return render(request, "verification/email_link.html", {"error": exc.message}, status=410)
    if services.registration_next_step(registration) == Step.DONE:
        return render(request, "verification/email_link.html", {"done": True})
    if request.method != "POST":
        return render(request, "verification/email_link.html", {"confirm": True})
    try:
        registration = services.registration_code_confirm(registration=registration, code=code)
    except FlowError as exc:
        return render(request, "verification/email_link.html", {"error": exc.message}, status=400)
    if services.registration_next_step(registration) == Step.DONE:
        # Sign in only the browser that started the registration: a link opened elsewhere
        # proves the mailbox, not the password.
        if hmac.compare_digest(str(request.session.get(SESSION_REGISTRATION, "")), str(registration.pk)):
            return _after_registration_step(request, registration)
        return render(request, "verification/email_link.html", {"done": True})
    return _after_registration_step(request, registration)


# --- Access recovery ----------------------------------------------------------------------


def _current_recovery(request: HttpRequest):
    recovery_id = request.session.get(SESSION_RECOVERY)
    if not recovery_id:
        return None
    try:
        return services.recovery_get(recovery_id=recovery_id)
    except FlowError as exc:
        request.session.pop(SESSION_RECOVERY, None)
        messages.error(request, exc.message)
        return None


def recovery_start(request: HttpRequest) -> HttpResponse:
    form = RecoveryStartForm(request.POST or None, initial={"contact": request.GET.get("contact", "")})
    if request.method == "POST" and form.is_valid():
        try:
            recovery = services.recovery_start(
                contact=form.cleaned_data["contact"], ip=client_ip(request), language=_language()
            )
        except (FlowError, ValidationError) as exc:
            form_add_service_error(form, exc)
        else:
            request.session[SESSION_RECOVERY] = str(recovery.pk)
            return redirect("verification:recovery_code")
    return render(request, "verification/recovery_start.html", {"form": form})


def recovery_code(request: HttpRequest) -> HttpResponse:
    recovery = _current_recovery(request)
    if recovery is None:
        return redirect("verification:recovery_start")
    if recovery.verified_at:
        return redirect("verification:recovery_password")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.recovery_code_confirm(recovery=recovery, code=form.cleaned_data["code"])
        except FlowError as exc:
            form_add_service_error(form, exc)
        else:
            return redirect("verification:recovery_password")
    return _code_page(
        request,
        template="verification/recovery_code.html",
        form=form,
        flow=recovery,
        purpose=Purpose.RECOVERY,
        extra={"recovery": recovery, "resend_url": reverse("verification:recovery_resend")},
    )


@require_POST
def recovery_resend(request: HttpRequest) -> HttpResponse:
    recovery = _current_recovery(request)
    if recovery is None:
        return redirect("verification:recovery_start")
    try:
        services.recovery_code_resend(recovery=recovery)
    except FlowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("A new code has been sent. The previous one no longer works."))
    return redirect("verification:recovery_code")


def recovery_password(request: HttpRequest) -> HttpResponse:
    recovery = _current_recovery(request)
    if recovery is None:
        return redirect("verification:recovery_start")
    if not recovery.verified_at:
        return redirect("verification:recovery_code")
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.recovery_password_set(
                recovery=recovery,
                password=form.cleaned_data["password"],
                password_confirm=form.cleaned_data["password_confirm"],
            )
        except (FlowError, ValidationError) as exc:
            form_add_service_error(form, exc)
        else:
            request.session.pop(SESSION_RECOVERY, None)
            login_failures_forget(request, user)
            login(request, user, backend=AUTH_BACKEND)
            messages.success(request, _("Your new password is set and you are signed in."))
            return redirect("accounts:cabinet")
    return render(request, "verification/recovery_password.html", {"form": form})


# --- SMS gateway callbacks and the development outbox --------------------------------------


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback: validates X-Twilio-Signature, records delivered/failed."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    url = settings.SITE_URL + request.path
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not settings.TWILIO_AUTH_TOKEN or not validator.validate(url, request.POST.dict(), signature):
        logger.warning("twilio status callback with a bad signature rejected")
        return HttpResponseForbidden("bad signature")
    services.delivery_status_update(
        provider_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


def dev_sms_outbox(request: HttpRequest) -> HttpResponse:
    """DEBUG only (routed only then): the last SMS of the console backend."""
    from verification.sms.backends import console_messages

    return render(request, "verification/dev_sms.html", {"messages_list": console_messages()[:20]})
