"""REST API of registration and access recovery for mobile clients.

Every step of the browser flow has an endpoint here; the views only translate HTTP to
verification.services calls. Errors have one shape:

    {"errors": {"<field>": [{"code": "code_invalid", "message": "...", "attempts_left": 3}]}}

with ``retry_after`` (seconds, also in the Retry-After header) on ``too_many_attempts``.
"""

from http import HTTPStatus

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.adapters import login_failures_forget
from accounts.api import UserSerializer
from accounts.regions import REGION_CODES
from verification import services
from verification.models import Purpose
from verification.services import FlowError, Step
from verification.views import client_ip

FLOW_STATUS = {
    "code_expired": HTTPStatus.BAD_REQUEST,
    "code_invalid": HTTPStatus.BAD_REQUEST,
    "code_format": HTTPStatus.BAD_REQUEST,
    "code_used": HTTPStatus.BAD_REQUEST,
    "too_many_attempts": HTTPStatus.TOO_MANY_REQUESTS,
    "registration_expired": HTTPStatus.GONE,
    "recovery_expired": HTTPStatus.GONE,
    "wrong_step": HTTPStatus.CONFLICT,
    "contact_taken": HTTPStatus.CONFLICT,
}


def _error_items(detail, default_code: str) -> list[dict]:
    items = detail if isinstance(detail, list) else [detail]
    return [{"code": getattr(item, "code", None) or default_code, "message": str(item)} for item in items]


def _django_errors(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {
            field: [{"code": e.code or "invalid", "message": " ".join(e.messages)} for e in errors]
            for field, errors in exc.error_dict.items()
        }
    return {
        "non_field_errors": [{"code": e.code or "invalid", "message": " ".join(e.messages)} for e in exc.error_list]
    }


def exception_handler(exc, context):
    """Every error of the API as {"errors": {field: [{code, message, ...}]}}."""
    if isinstance(exc, FlowError):
        item = {"code": exc.code, "message": exc.message}
        if exc.attempts_left is not None:
            item["attempts_left"] = exc.attempts_left
        headers = {}
        if exc.retry_after is not None:
            item["retry_after"] = exc.retry_after
            headers["Retry-After"] = str(exc.retry_after)
        return Response({"errors": {exc.field: [item]}}, status=FLOW_STATUS.get(exc.code, 400), headers=headers)
    if isinstance(exc, DjangoValidationError):
        return Response({"errors": _django_errors(exc)}, status=HTTPStatus.BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        errors = {field: _error_items(detail, "invalid") for field, detail in exc.detail.items()}
    else:
        item = {"code": getattr(exc, "default_code", "error"), "message": str(getattr(exc, "detail", exc))}
        if isinstance(exc, exceptions.Throttled):
            item["code"] = "too_many_attempts"
            item["retry_after"] = int(exc.wait or 0)
        if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
            errors = {"non_field_errors": _error_items(exc.detail, "invalid")}
        else:
            errors = {"non_field_errors": [item]}
    response.data = {"errors": errors}
    return response


class CodeStateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=["sms", "email"], allow_null=True)
    sent_to = serializers.CharField(help_text="The masked phone or email the code went to.")
    expires_at = serializers.DateTimeField(allow_null=True)
    resend_available_at = serializers.DateTimeField(allow_null=True)
    attempts_left = serializers.IntegerField()
    delivery_failed = serializers.BooleanField(required=False)


class FlowStateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    next_step = serializers.ChoiceField(choices=[Step.PHONE, Step.EMAIL, Step.PASSWORD, Step.DONE])
    code = CodeStateSerializer(allow_null=True)
    token = serializers.CharField(required=False, help_text="Given once, when the flow signs the person in.")
    user = UserSerializer(required=False)


class RegistrationStartSerializer(serializers.Serializer):
    surname = serializers.CharField(max_length=100)
    first_name = serializers.CharField(max_length=100)
    region = serializers.ChoiceField(choices=sorted(REGION_CODES))
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    password_confirm = serializers.CharField(max_length=4096, trim_whitespace=False)


class RecoveryStartSerializer(serializers.Serializer):
    contact = serializers.CharField(max_length=254, help_text="Mobile phone or email of the account.")


def _language(request) -> str:
    return (get_language() or "ru")[:2]


def _signed_in(request, user, payload: dict) -> dict:
    _instance, token = AuthToken.objects.create(user)
    return {**payload, "token": token, "user": UserSerializer(user).data}


class _PublicFlowView(APIView):
    """Anonymous endpoints; no session authentication, so no CSRF token is needed."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


def _registration_state(registration) -> dict:
    step = services.registration_next_step(registration)
    code = services.code_current(purpose=Purpose.REGISTRATION, flow_id=registration.pk)
    show_code = step in (Step.PHONE, Step.EMAIL)
    return {
        "id": registration.pk,
        "next_step": step,
        "code": services.code_state(code) if show_code else None,
    }


def _registration_response(request, registration, status=HTTPStatus.OK) -> Response:
    payload = _registration_state(registration)
    if payload["next_step"] == Step.DONE and registration.user_id:
        payload = _signed_in(request, registration.user, payload)
    return Response(payload, status=status)


ERRORS = {
    400: OpenApiResponse(description="Invalid input: `errors` per field with stable codes."),
    429: OpenApiResponse(description="`too_many_attempts` with `retry_after` seconds."),
}


class RegistrationStartView(_PublicFlowView):
    @extend_schema(
        tags=["registration"],
        summary="Start a registration; sends the first code",
        request=RegistrationStartSerializer,
        responses={201: FlowStateSerializer, **ERRORS},
    )
    def post(self, request):
        data = RegistrationStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.registration_start(
            **data.validated_data, ip=client_ip(request), language=_language(request)
        )
        return Response(_registration_state(registration), status=HTTPStatus.CREATED)


class RegistrationDetailView(_PublicFlowView):
    @extend_schema(
        tags=["registration"],
        summary="Where a registration stands",
        responses={200: FlowStateSerializer, 410: ERRORS[400]},
    )
    def get(self, request, pk):
        registration = services.registration_get(registration_id=pk)
        return Response(_registration_state(registration))


class RegistrationCodeView(_PublicFlowView):
    @extend_schema(
        tags=["registration"],
        summary="Confirm the phone or email code of the current step",
        description="When this was the last step the response carries `token` and `user`.",
        request=CodeSerializer,
        responses={200: FlowStateSerializer, **ERRORS},
    )
    def post(self, request, pk):
        data = CodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.registration_get(registration_id=pk)
        registration = services.registration_code_confirm(registration=registration, code=data.validated_data["code"])
        return _registration_response(request, registration)


class RegistrationResendView(_PublicFlowView):
    @extend_schema(
        tags=["registration"],
        summary="Send a new code (after the cooldown)",
        request=None,
        responses={200: FlowStateSerializer, **ERRORS},
    )
    def post(self, request, pk):
        registration = services.registration_get(registration_id=pk)
        services.registration_code_resend(registration=registration)
        return Response(_registration_state(registration))


class RegistrationPasswordView(_PublicFlowView):
    @extend_schema(
        tags=["registration"],
        summary="Set the password",
        description="Then either an email code is sent (`next_step: email_code`) or the account is created (`token`).",
        request=PasswordSerializer,
        responses={200: FlowStateSerializer, **ERRORS},
    )
    def post(self, request, pk):
        data = PasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.registration_get(registration_id=pk)
        registration = services.registration_password_set(registration=registration, **data.validated_data)
        return _registration_response(request, registration)


class ContactDropSerializer(serializers.Serializer):
    contact = serializers.ChoiceField(choices=["phone", "email"], help_text="The unconfirmed contact to give up.")


class RegistrationContactDropView(_PublicFlowView):
    @extend_schema(
        tags=["registration"],
        summary="Go on with the other contact when messages do not arrive",
        description=(
            "For a registration with both a phone and an email: `phone` sends the code to the email "
            "instead; `email` (after the password) finishes with the phone alone and returns `token`."
        ),
        request=ContactDropSerializer,
        responses={200: FlowStateSerializer, **ERRORS},
    )
    def post(self, request, pk):
        data = ContactDropSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.registration_get(registration_id=pk)
        registration = services.registration_contact_drop(
            registration=registration, contact=data.validated_data["contact"]
        )
        return _registration_response(request, registration)


def _recovery_state(recovery) -> dict:
    if recovery.completed_at:
        step = Step.DONE
    elif recovery.verified_at:
        step = Step.PASSWORD
    else:
        step = "code"
    code = services.code_current(purpose=Purpose.RECOVERY, flow_id=recovery.pk)
    return {"id": recovery.pk, "next_step": step, "code": services.code_state(code) if step == "code" else None}


class RecoveryStateSerializer(FlowStateSerializer):
    next_step = serializers.ChoiceField(choices=["code", Step.PASSWORD, Step.DONE])


class RecoveryStartView(_PublicFlowView):
    @extend_schema(
        tags=["recovery"],
        summary="Start access recovery; sends a code",
        description="The answer is the same whether or not an account uses the contact.",
        request=RecoveryStartSerializer,
        responses={201: RecoveryStateSerializer, **ERRORS},
    )
    def post(self, request):
        data = RecoveryStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recovery = services.recovery_start(
            contact=data.validated_data["contact"], ip=client_ip(request), language=_language(request)
        )
        return Response(_recovery_state(recovery), status=HTTPStatus.CREATED)


class RecoveryCodeView(_PublicFlowView):
    @extend_schema(
        tags=["recovery"],
        summary="Confirm the recovery code",
        request=CodeSerializer,
        responses={200: RecoveryStateSerializer, **ERRORS},
    )
    def post(self, request, pk):
        data = CodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recovery = services.recovery_get(recovery_id=pk)
        recovery = services.recovery_code_confirm(recovery=recovery, code=data.validated_data["code"])
        return Response(_recovery_state(recovery))


class RecoveryResendView(_PublicFlowView):
    @extend_schema(
        tags=["recovery"],
        summary="Send a new recovery code",
        request=None,
        responses={200: RecoveryStateSerializer, **ERRORS},
    )
    def post(self, request, pk):
        recovery = services.recovery_get(recovery_id=pk)
        services.recovery_code_resend(recovery=recovery)
        return Response(_recovery_state(recovery))


class RecoveryPasswordView(_PublicFlowView):
    @extend_schema(
        tags=["recovery"],
        summary="Set a new password; signs in",
        request=PasswordSerializer,
        responses={200: RecoveryStateSerializer, **ERRORS},
    )
    def post(self, request, pk):
        data = PasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recovery = services.recovery_get(recovery_id=pk)
        user = services.recovery_password_set(recovery=recovery, **data.validated_data)
        login_failures_forget(request, user)
        recovery.refresh_from_db()
        return Response(_signed_in(request, user, _recovery_state(recovery)))
