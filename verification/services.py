"""Registration, one-time codes and access recovery.

Views, API views and tasks are thin callers of these functions. Every failure a person can
cause raises FlowError with a stable machine ``code`` (used by the API) and a translated
message (shown in the browser).
"""

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import User
from accounts.phones import email_mask, phone_mask, phone_parse_ru_mobile
from accounts.regions import REGION_CODES
from accounts.validators import person_name_normalize
from verification import codes, sms
from verification.conf import app_settings
from verification.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notice,
    OneTimeCode,
    Purpose,
    Recovery,
    Registration,
)
from verification.ratelimit import limit_consume

logger = logging.getLogger(__name__)


@dataclass
class FlowError(Exception):
    """A step of a flow refused; ``code`` is stable for API clients."""

    code: str
    message: str
    field: str = "non_field_errors"
    retry_after: int | None = None
    attempts_left: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class Step:
    PHONE = "phone_code"
    EMAIL = "email_code"
    PASSWORD = "password"  # noqa: S105 (a step name)
    DONE = "done"


# --- Helpers ------------------------------------------------------------------------------


def _fingerprint(value: str) -> str:
    """Cache keys carry no contact in clear."""
    return hashlib.sha256(f"{settings.PII_KEY}:{value.lower()}".encode()).hexdigest()[:32]


def _too_many(retry_after: int, message: str | None = None) -> FlowError:
    return FlowError(
        code="too_many_attempts",
        message=message
        or ngettext(
            "Too many attempts. Try again in %(n)d second.",
            "Too many attempts. Try again in %(n)d seconds.",
            retry_after,
        )
        % {"n": retry_after},
        retry_after=retry_after,
    )


def _consume_send_quota(target: str) -> None:
    retry = limit_consume(
        key=f"send:{_fingerprint(target)}", limit=app_settings.SENDS_PER_CONTACT_PER_HOUR, period=3600
    )
    if retry:
        minutes = max(1, (retry + 59) // 60)
        raise _too_many(
            retry,
            ngettext(
                "Too many codes were sent to this contact. Try again in %(n)d minute.",
                "Too many codes were sent to this contact. Try again in %(n)d minutes.",
                minutes,
            )
            % {"n": minutes},
        )


def _consume_ip_quota(action: str, ip: str) -> None:
    retry = limit_consume(key=f"{action}:ip:{ip}", limit=app_settings.STARTS_PER_IP_PER_HOUR, period=3600)
    if retry:
        raise _too_many(retry)


def contact_parse(*, phone: str = "", email: str = "") -> tuple[str, str]:
    """Validate and normalise the contacts of a form; raise ValidationError per field."""
    from django.core.validators import validate_email

    errors: dict[str, ValidationError] = {}
    phone_e164 = ""
    email_norm = (email or "").strip().lower()
    if phone and phone.strip():
        try:
            phone_e164 = phone_parse_ru_mobile(phone)
        except ValidationError as exc:
            errors["phone"] = exc
    if email_norm:
        try:
            if len(email_norm) > 254:
                raise ValidationError(_("Enter a valid email address."), code="email_invalid")
            validate_email(email_norm)
        except ValidationError:
            errors["email"] = ValidationError(_("Enter a valid email address."), code="email_invalid")
    if errors:
        raise ValidationError(errors)
    if not phone_e164 and not email_norm:
        raise ValidationError(
            _("Give a mobile phone or an email (or both): the code goes there."), code="contact_required"
        )
    return phone_e164, email_norm


def _flow_expired(created_at: dt.datetime) -> bool:
    return created_at + dt.timedelta(seconds=app_settings.REGISTRATION_TTL) <= timezone.now()


# --- Codes --------------------------------------------------------------------------------


def code_current(*, purpose: str, flow_id) -> OneTimeCode | None:
    return (
        OneTimeCode.objects.filter(purpose=purpose, flow_id=flow_id, revoked_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def _code_issue(*, purpose: str, flow_id, channel: str, target: str, notice: str, language: str) -> OneTimeCode:
    """Revoke the flow's earlier codes and queue a new one; the code itself is made by the task."""
    now = timezone.now()
    OneTimeCode.objects.filter(purpose=purpose, flow_id=flow_id, revoked_at__isnull=True).update(revoked_at=now)
    code = OneTimeCode.objects.create(
        purpose=purpose,
        flow_id=flow_id,
        channel=channel,
        target=target,
        notice=notice,
        language=language,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=app_settings.CODE_TTL),
    )
    transaction.on_commit(lambda: _code_enqueue(code.pk))
    return code


def _code_enqueue(code_id: int) -> None:
    """Hand the code to the worker; a broker outage is recorded, not turned into a 500.

    The registration is already committed when this runs, so the person sees the code page,
    which then shows the delivery failure and offers a new code or the other contact.
    """
    from kombu.exceptions import OperationalError

    from verification.tasks import code_send

    try:
        code_send.delay(code_id)
    except OperationalError as exc:
        logger.exception("could not enqueue code %s", code_id)
        code_delivery_failed(code_id=code_id, error=f"broker: {type(exc).__name__}")


def code_verify(*, purpose: str, flow_id, code_input: str) -> OneTimeCode:
    """Check a typed code against the flow's current code; consume it on success.

    The attempt counter is increased by a conditional UPDATE before the comparison, so
    parallel guesses cannot exceed the limit.
    """
    code = code_current(purpose=purpose, flow_id=flow_id)
    typed = codes.code_normalize(code_input)
    if code is None:
        raise FlowError(code="code_expired", message=_("The code has expired. Request a new one."), field="code")
    now = timezone.now()
    if code.consumed_at:
        raise FlowError(code="code_used", message=_("This code has already been used."), field="code")
    if code.expires_at <= now:
        raise FlowError(
            code="code_expired",
            message=_("The code has expired. Press “Send a new code” to get a new one."),
            field="code",
        )
    if len(typed) != codes.CODE_LENGTH:
        raise FlowError(code="code_format", message=_("The code is 6 digits."), field="code")
    max_attempts = app_settings.CODE_MAX_ATTEMPTS
    bumped = OneTimeCode.objects.filter(pk=code.pk, attempts__lt=max_attempts).update(attempts=F("attempts") + 1)
    if not bumped:
        raise _code_exhausted(code)
    code.refresh_from_db(fields=["attempts"])
    # The HMAC is computed first, so a decoy (notice) answers as slowly as a real code.
    ok = codes.code_matches(salt=code.salt, digest=code.code_hmac, code=typed) and not code.notice
    if not ok:
        left = max_attempts - code.attempts
        if left <= 0:
            raise _code_exhausted(code)
        raise FlowError(
            code="code_invalid",
            message=ngettext(
                "Wrong code. %(n)d attempt left.",
                "Wrong code. %(n)d attempts left.",
                left,
            )
            % {"n": left},
            field="code",
            attempts_left=left,
        )
    consumed = OneTimeCode.objects.filter(pk=code.pk, consumed_at__isnull=True).update(consumed_at=now)
    if not consumed:
        raise FlowError(code="code_used", message=_("This code has already been used."), field="code")
    return code


def _code_exhausted(code: OneTimeCode) -> FlowError:
    return FlowError(
        code="too_many_attempts",
        message=_("No attempts left for this code. Press “Send a new code” to get a new one."),
        field="code",
        retry_after=resend_retry_after(code),
        attempts_left=0,
    )


def resend_retry_after(code: OneTimeCode | None) -> int:
    """Seconds until a new code may be requested (0: now)."""
    if code is None:
        return 0
    allowed_at = code.created_at + dt.timedelta(seconds=app_settings.RESEND_COOLDOWN)
    return max(0, int((allowed_at - timezone.now()).total_seconds() + 0.999))


def code_state(code: OneTimeCode | None) -> dict:
    """What a page or API client shows about the current code."""
    if code is None:
        return {"channel": None, "sent_to": "", "expires_at": None, "resend_available_at": None, "attempts_left": 0}
    return {
        "channel": code.channel,
        "sent_to": phone_mask(code.target) if code.channel == Channel.SMS else email_mask(code.target),
        "expires_at": code.expires_at,
        "resend_available_at": code.created_at + dt.timedelta(seconds=app_settings.RESEND_COOLDOWN),
        "attempts_left": max(0, app_settings.CODE_MAX_ATTEMPTS - code.attempts),
        "delivery_failed": code.delivery_failed_at is not None,
    }


def _code_resend(*, purpose: str, flow_id, channel: str, target: str, notice: str, language: str) -> OneTimeCode:
    current = code_current(purpose=purpose, flow_id=flow_id)
    retry = resend_retry_after(current)
    if retry:
        raise _too_many(
            retry,
            ngettext(
                "A new code can be requested in %(n)d second.",
                "A new code can be requested in %(n)d seconds.",
                retry,
            )
            % {"n": retry},
        )
    _consume_send_quota(target)
    return _code_issue(
        purpose=purpose, flow_id=flow_id, channel=channel, target=target, notice=notice, language=language
    )


# --- Delivery (runs in the worker) --------------------------------------------------------


def _message_context(code: OneTimeCode, plain: str = "") -> dict:
    ctx = {
        "code": plain,
        "minutes": max(1, app_settings.CODE_TTL // 60),
        "site_url": settings.SITE_URL,
        "recover_url": settings.SITE_URL + reverse("verification:recovery_start"),
        "register_url": settings.SITE_URL + reverse("verification:registration_start"),
        "purpose": code.purpose,
        "notice": code.notice,
        "link": "",
    }
    if plain and code.purpose == Purpose.REGISTRATION and code.channel == Channel.EMAIL:
        ctx["link"] = settings.SITE_URL + reverse(
            "verification:registration_email_link", kwargs={"flow_id": code.flow_id, "code": plain}
        )
    return ctx


def _sms_text(code: OneTimeCode, ctx: dict) -> str:
    if code.notice == Notice.ACCOUNT_EXISTS:
        return _(
            "Someone tried to register with your number. If it was you, you already have an account: "
            "recover access at %(url)s. If not, ignore this message."
        ) % {"url": ctx["recover_url"]}
    if code.notice == Notice.UNKNOWN_ACCOUNT:
        return _("Someone asked to recover access with your number, but no account uses it. Register: %(url)s") % {
            "url": ctx["register_url"]
        }
    if code.purpose == Purpose.RECOVERY:
        return _("Access recovery code: %(code)s. Valid %(minutes)d min. Do not tell it to anyone.") % ctx
    return _("Registration code: %(code)s. Valid %(minutes)d min. Do not tell it to anyone.") % ctx


def _email_send(code: OneTimeCode, ctx: dict) -> None:
    if code.notice == Notice.ACCOUNT_EXISTS:
        subject, template = _("Someone tried to register with your email"), "email/account_exists"
    elif code.notice == Notice.UNKNOWN_ACCOUNT:
        subject, template = _("Access recovery requested"), "email/unknown_account"
    elif code.purpose == Purpose.RECOVERY:
        subject, template = _("Access recovery code"), "email/recovery_code"
    else:
        subject, template = _("Confirm your email"), "email/registration_code"
    text = render_to_string(f"{template}.txt", ctx)
    html = render_to_string(f"{template}.html", ctx)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[code.target])
    message.attach_alternative(html, "text/html")
    message.send()


def _delivery_record(code: OneTimeCode, *, status: str, provider_id: str = "", error: str = "") -> None:
    backend = settings.SMS_BACKEND if code.channel == Channel.SMS else settings.EMAIL_BACKEND
    Delivery.objects.create(
        code=code,
        channel=code.channel,
        target=code.target,
        kind=code.notice or f"{code.purpose}_code",
        backend=backend.rsplit(".", 1)[-1],
        provider_id=provider_id,
        status=status,
        error=error[:255],
    )


def code_deliver(*, code_id: int) -> None:
    """Make the code, store its HMAC and hand the message to the gateway.

    Idempotent: a code already sent, revoked, used or expired is left alone, so a redelivered
    task does nothing. A gateway error propagates for the task to retry; each try makes a new
    code, since the previous one was never delivered.
    """
    code = OneTimeCode.objects.filter(pk=code_id).first()
    now = timezone.now()
    if code is None or code.sent_at or code.revoked_at or code.consumed_at or code.expires_at <= now:
        return
    plain = ""
    if not code.notice:
        plain = codes.code_generate()
        salt = codes.salt_generate()
        stored = OneTimeCode.objects.filter(pk=code.pk, sent_at__isnull=True).update(
            salt=salt, code_hmac=codes.code_digest(salt=salt, code=plain)
        )
        if not stored:
            return
    with translation.override(code.language):
        ctx = _message_context(code, plain)
        if code.channel == Channel.SMS:
            result = sms.send_sms(to=code.target, body=_sms_text(code, ctx))
            _delivery_record(code, status=result.status, provider_id=result.provider_id)
        else:
            _email_send(code, ctx)
            _delivery_record(code, status=DeliveryStatus.SENT)
    OneTimeCode.objects.filter(pk=code.pk).update(sent_at=timezone.now())


def code_delivery_failed(*, code_id: int, error: str) -> None:
    """Record a final delivery failure; pages then offer the other channel."""
    code = OneTimeCode.objects.filter(pk=code_id).first()
    if code is None:
        return
    OneTimeCode.objects.filter(pk=code_id, delivery_failed_at__isnull=True).update(delivery_failed_at=timezone.now())
    _delivery_record(code, status=DeliveryStatus.FAILED, error=error)
    logger.warning("delivery failed: code=%s channel=%s error=%s", code_id, code.channel, error)


def delivery_status_update(*, provider_id: str, status: str, error: str = "") -> bool:
    """Record a gateway's status callback (delivered/failed). Returns whether it was known."""
    mapped = {
        "delivered": DeliveryStatus.DELIVERED,
        "failed": DeliveryStatus.FAILED,
        "undelivered": DeliveryStatus.FAILED,
        "sent": DeliveryStatus.SENT,
    }.get(status)
    delivery = Delivery.objects.filter(provider_id=provider_id).first() if provider_id else None
    if delivery is None or mapped is None:
        return delivery is not None
    # Callbacks arrive out of order, even at once: delivered is final, and a late "sent" never
    # replaces a failure either. The conditional UPDATE keeps that true for parallel callbacks.
    final = (
        [DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]
        if mapped == DeliveryStatus.SENT
        else [DeliveryStatus.DELIVERED]
    )
    updated = (
        Delivery.objects.filter(pk=delivery.pk)
        .exclude(status__in=final)
        .update(status=mapped, error=error[:255], updated_at=timezone.now())
    )
    if updated and mapped == DeliveryStatus.FAILED and delivery.code_id:
        OneTimeCode.objects.filter(pk=delivery.code_id, delivery_failed_at__isnull=True).update(
            delivery_failed_at=timezone.now()
        )
    return True


# --- Registration -------------------------------------------------------------------------


def registration_next_step(registration: Registration) -> str:
    if registration.completed_at:
        return Step.DONE
    if registration.phone and not registration.phone_confirmed_at:
        return Step.PHONE
    if not registration.phone and not registration.email_confirmed_at:
        return Step.EMAIL
    if not registration.password_hash:
        return Step.PASSWORD
    if registration.email and not registration.email_confirmed_at:
        return Step.EMAIL
    return Step.DONE


def _registration_code_params(registration: Registration) -> dict:
    step = registration_next_step(registration)
    if step == Step.PHONE:
        channel, target = Channel.SMS, registration.phone
        taken = account_selectors.contact_is_taken(phone=target)
    else:
        channel, target = Channel.EMAIL, registration.email
        taken = account_selectors.contact_is_taken(email=target)
    return {
        "purpose": Purpose.REGISTRATION,
        "flow_id": registration.pk,
        "channel": channel,
        "target": target,
        "notice": Notice.ACCOUNT_EXISTS if taken else Notice.NONE,
        "language": registration.language,
    }


def _person_parse(*, surname: str, first_name: str, region: str) -> tuple[str, str]:
    """Validate the person's part of a registration, whichever door it came through."""
    errors: dict[str, ValidationError] = {}
    names = {}
    for field, value in (("surname", surname), ("first_name", first_name)):
        try:
            names[field] = person_name_normalize(value)
        except ValidationError as exc:
            errors[field] = exc
    if region not in REGION_CODES:
        errors["region"] = ValidationError(_("Choose a region from the list."), code="region_invalid")
    if errors:
        raise ValidationError(errors)
    return names["surname"], names["first_name"]


def registration_start(
    *,
    surname: str,
    first_name: str,
    region: str,
    phone: str,
    email: str,
    ip: str,
    language: str,
) -> Registration:
    """Start a registration and send the first code.

    When a contact already belongs to an account, the caller sees exactly the same result
    (same rows, same queries, same response); only the worker sends the owner a notice
    instead of a code, and that registration can never be confirmed.
    """
    surname, first_name = _person_parse(surname=surname, first_name=first_name, region=region)
    phone_e164, email_norm = contact_parse(phone=phone, email=email)
    _consume_ip_quota("registration_start", ip)
    _consume_send_quota(phone_e164 or email_norm)
    with transaction.atomic():
        registration = Registration.objects.create(
            surname=surname,
            first_name=first_name,
            region=region,
            phone=phone_e164,
            email=email_norm,
            language=language,
        )
        _code_issue(**_registration_code_params(registration))
    logger.info("registration started: id=%s", registration.pk)
    return registration


def registration_get(*, registration_id) -> Registration:
    registration = Registration.objects.filter(pk=registration_id).first()
    if registration is None or (not registration.completed_at and _flow_expired(registration.created_at)):
        raise FlowError(
            code="registration_expired",
            message=_("This registration has expired. Please start again."),
        )
    return registration


def registration_code_resend(*, registration: Registration) -> OneTimeCode:
    step = registration_next_step(registration)
    if step not in (Step.PHONE, Step.EMAIL):
        raise FlowError(code="wrong_step", message=_("No code is expected at this step."))
    with transaction.atomic():
        Registration.objects.select_for_update().filter(pk=registration.pk).first()
        return _code_resend(**_registration_code_params(registration))


def registration_code_confirm(*, registration: Registration, code: str) -> Registration:
    """Confirm the contact the current step is about; finish the registration if it was the last step.

    The code is checked outside the transaction below: a wrong try must stay counted even
    though the request ends in an error.
    """
    if registration_next_step(registration) not in (Step.PHONE, Step.EMAIL):
        raise FlowError(code="wrong_step", message=_("No code is expected at this step."))
    verified = code_verify(purpose=Purpose.REGISTRATION, flow_id=registration.pk, code_input=code)
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        field = "phone_confirmed_at" if verified.channel == Channel.SMS else "email_confirmed_at"
        setattr(registration, field, timezone.now())
        registration.save(update_fields=[field])
        if registration_next_step(registration) == Step.DONE:
            _registration_complete(registration)
    return registration


def registration_contact_drop(*, registration: Registration, contact: str) -> Registration:
    """Go on with the other contact when this one gets no messages («use email instead»).

    Only an unconfirmed contact of a registration that has both can be dropped; it can be
    added to the account later. Dropping the phone sends the code to the email; dropping
    the email after the password was set finishes the registration.
    """
    if contact not in ("phone", "email"):
        raise FlowError(code="invalid", message=_("Unknown contact."), field="contact")
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        confirmed = registration.phone_confirmed_at if contact == "phone" else registration.email_confirmed_at
        if registration.completed_at or not (registration.phone and registration.email) or confirmed:
            raise FlowError(code="wrong_step", message=_("This contact cannot be removed now."), field="contact")
        dropped = getattr(registration, contact)
        setattr(registration, contact, "")
        registration.save(update_fields=[contact])
        OneTimeCode.objects.filter(
            purpose=Purpose.REGISTRATION, flow_id=registration.pk, target=dropped, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        step = registration_next_step(registration)
        if step == Step.EMAIL:
            _consume_send_quota(registration.email)
            _code_issue(**_registration_code_params(registration))
        elif step == Step.DONE:
            _registration_complete(registration)
    return registration


def registration_password_validate(*, registration: Registration, password: str, password_confirm: str) -> None:
    if password != password_confirm:
        raise ValidationError(
            {"password_confirm": ValidationError(_("The passwords do not match."), code="password_mismatch")}
        )
    probe = User(
        surname=registration.surname,
        first_name=registration.first_name,
        email=registration.email or None,
        phone=registration.phone or None,
    )
    try:
        password_validation.validate_password(password, user=probe)
    except ValidationError as exc:
        raise ValidationError({"password": exc}) from None


@transaction.atomic
def registration_password_set(*, registration: Registration, password: str, password_confirm: str) -> Registration:
    """Hash the password (once) and move on: mail the email code, or finish."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration_next_step(registration) != Step.PASSWORD:
        raise FlowError(code="wrong_step", message=_("The password has already been set for this registration."))
    registration_password_validate(registration=registration, password=password, password_confirm=password_confirm)
    registration.password_hash = make_password(password)
    registration.save(update_fields=["password_hash"])
    if registration_next_step(registration) == Step.EMAIL:
        _consume_send_quota(registration.email)
        _code_issue(**_registration_code_params(registration))
    else:
        _registration_complete(registration)
    return registration


def _registration_complete(registration: Registration) -> User:
    try:
        user = account_services.user_create(
            surname=registration.surname,
            first_name=registration.first_name,
            region=registration.region,
            phone=registration.phone or None,
            email=registration.email or None,
            password_hash=registration.password_hash,
            phone_confirmed=bool(registration.phone_confirmed_at),
            email_confirmed=bool(registration.email_confirmed_at),
            reason="registration completed",
        )
    except account_services.ContactTaken:
        # The person proved they own the contact, so telling them is no leak.
        raise FlowError(
            code="contact_taken",
            message=_(
                "An account with this phone or email already exists. Recover access to it instead of registering again."
            ),
        ) from None
    registration.user = user
    registration.completed_at = timezone.now()
    registration.password_hash = ""  # the account holds it now
    registration.save(update_fields=["user", "completed_at", "password_hash"])
    return user


def registrations_purge() -> int:
    """Delete registrations, recoveries and codes past their lifetime, and old delivery logs.

    A finished registration's data lives on in the account, so every flow older than
    VERIFICATION_REGISTRATION_TTL goes, finished or not; so does every code made before then.
    Delivery rows (which hold the phone or email) are kept for support for
    VERIFICATION_DELIVERY_RETENTION_DAYS. Returns how many unfinished flows were abandoned.
    """
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=app_settings.REGISTRATION_TTL)
    with transaction.atomic():
        abandoned = Registration.objects.filter(completed_at__isnull=True, created_at__lt=cutoff).count()
        abandoned += Recovery.objects.filter(completed_at__isnull=True, created_at__lt=cutoff).count()
        OneTimeCode.objects.filter(created_at__lt=cutoff).delete()
        Registration.objects.filter(created_at__lt=cutoff).delete()
        Recovery.objects.filter(created_at__lt=cutoff).delete()
        Delivery.objects.filter(created_at__lt=now - dt.timedelta(days=app_settings.DELIVERY_RETENTION_DAYS)).delete()
    logger.info("purged %d abandoned registrations and recoveries", abandoned)
    return abandoned


# --- Access recovery ----------------------------------------------------------------------


def recovery_start(*, contact: str, ip: str, language: str) -> Recovery:
    """Send a recovery code to a phone or email; the answer is the same whether or not an account uses it."""
    _consume_ip_quota("recovery_start", ip)
    contact = (contact or "").strip()
    if "@" in contact:
        try:
            _phone, email = contact_parse(email=contact)
        except ValidationError:
            raise ValidationError(
                {"contact": ValidationError(_("Enter a valid email address."), code="email_invalid")}
            ) from None
        channel, target = Channel.EMAIL, email
        user = account_selectors.user_get_by_email(email=email)
    else:
        try:
            target = phone_parse_ru_mobile(contact)
        except ValidationError as exc:
            raise ValidationError({"contact": exc}) from None
        channel = Channel.SMS
        user = account_selectors.user_get_by_phone(phone=target)
    _consume_send_quota(target)
    with transaction.atomic():
        recovery = Recovery.objects.create(user=user, channel=channel, target=target, language=language)
        _code_issue(
            purpose=Purpose.RECOVERY,
            flow_id=recovery.pk,
            channel=channel,
            target=target,
            notice=Notice.NONE if user and user.is_active else Notice.UNKNOWN_ACCOUNT,
            language=language,
        )
    return recovery


def recovery_get(*, recovery_id) -> Recovery:
    recovery = Recovery.objects.filter(pk=recovery_id).first()
    if recovery is None or recovery.completed_at or _flow_expired(recovery.created_at):
        raise FlowError(code="recovery_expired", message=_("This recovery has expired. Please start again."))
    return recovery


def recovery_code_resend(*, recovery: Recovery) -> OneTimeCode:
    if recovery.verified_at:
        raise FlowError(code="wrong_step", message=_("The code has already been confirmed."))
    with transaction.atomic():
        Recovery.objects.select_for_update().filter(pk=recovery.pk).first()
        return _code_resend(
            purpose=Purpose.RECOVERY,
            flow_id=recovery.pk,
            channel=recovery.channel,
            target=recovery.target,
            # As in recovery_start: a blocked account gets the notice, never a code. One query
            # whether or not an account was found, so the answer takes the same work.
            notice=Notice.NONE
            if User.objects.filter(pk=recovery.user_id, is_active=True).exists()
            else Notice.UNKNOWN_ACCOUNT,
            language=recovery.language,
        )


def recovery_code_confirm(*, recovery: Recovery, code: str) -> Recovery:
    """Like registration_code_confirm, the check commits its attempt count on its own."""
    if recovery.verified_at:
        raise FlowError(code="wrong_step", message=_("The code has already been confirmed."))
    code_verify(purpose=Purpose.RECOVERY, flow_id=recovery.pk, code_input=code)
    Recovery.objects.filter(pk=recovery.pk, verified_at__isnull=True).update(verified_at=timezone.now())
    recovery.refresh_from_db()
    return recovery


@transaction.atomic
def recovery_password_set(*, recovery: Recovery, password: str, password_confirm: str) -> User:
    recovery = Recovery.objects.select_for_update().get(pk=recovery.pk)
    if not recovery.verified_at or recovery.completed_at or recovery.user is None:
        raise FlowError(code="wrong_step", message=_("Confirm the code first."))
    if password != password_confirm:
        raise ValidationError(
            {"password_confirm": ValidationError(_("The passwords do not match."), code="password_mismatch")}
        )
    try:
        password_validation.validate_password(password, user=recovery.user)
    except ValidationError as exc:
        raise ValidationError({"password": exc}) from None
    account_services.user_password_set(user=recovery.user, password=password)
    recovery.completed_at = timezone.now()
    recovery.save(update_fields=["completed_at"])
    logger.info("access recovered: user=%s channel=%s", recovery.user_id, recovery.channel)
    return recovery.user
