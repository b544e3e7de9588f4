"""REST API of the signed-in person: sign in and out (knox tokens), «Мои данные»."""

import math
from http import HTTPStatus

from allauth.core import ratelimit
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import selectors
from accounts.adapters import login_limit_key
from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(allow_null=True)
    next_tier = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "surname",
            "first_name",
            "patronymic",
            "region",
            "tier",
            "next_tier",
            "phone",
            "phone_confirmed",
            "email",
            "email_confirmed",
        ]
        read_only_fields = fields

    def get_next_tier(self, user: User) -> str | None:
        return selectors.user_next_tier(user=user)


class LoginSerializer(serializers.Serializer):
    login = serializers.CharField(max_length=254, help_text="Mobile phone (any usual spelling) or email.")
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = UserSerializer()


def _login_failed_window() -> int:
    """Seconds after which every failed-sign-in limit has surely forgotten the failures.

    allauth's limits slide and do not say when the next try is allowed; the longest window is
    the honest upper bound for ``retry_after``.
    """
    from allauth.account import app_settings as allauth_settings
    from allauth.core.internal.ratelimit import parse_rates

    rates = parse_rates(allauth_settings.RATE_LIMITS.get("login_failed"))
    return max((math.ceil(rate.duration) for rate in rates), default=60)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        tags=["auth"],
        summary="Sign in with phone or email and password; returns a token",
        description="Send the token as `Authorization: Token <token>`.",
        request=LoginSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="`invalid_login`"),
            429: OpenApiResponse(description="`too_many_attempts` with `retry_after` seconds."),
        },
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        login = data.validated_data["login"].strip()
        key = login_limit_key(login)
        # Failed sign-ins share allauth's limits (ACCOUNT_RATE_LIMITS["login_failed"]) with the browser.
        if not ratelimit.consume(request, action="login_failed", key=key, dry_run=True):
            retry_after = _login_failed_window()
            return Response(
                {
                    "errors": {
                        "non_field_errors": [
                            {
                                "code": "too_many_attempts",
                                "message": _("Too many failed sign-in attempts. Try again later or recover access."),
                                "retry_after": retry_after,
                            }
                        ]
                    }
                },
                status=HTTPStatus.TOO_MANY_REQUESTS,
                headers={"Retry-After": str(retry_after)},
            )
        field = "email" if "@" in login else "phone"
        user = authenticate(request, **{field: login, "password": data.validated_data["password"]})
        if user is None:
            ratelimit.consume(request, action="login_failed", key=key)
            return Response(
                {
                    "errors": {
                        "non_field_errors": [
                            {"code": "invalid_login", "message": _("The phone, email or password is wrong.")}
                        ]
                    }
                },
                status=HTTPStatus.BAD_REQUEST,
            )
        _instance, token = AuthToken.objects.create(user)
        return Response({"token": token, "user": UserSerializer(user).data})


class LogoutView(KnoxLogoutView):
    @extend_schema(tags=["auth"], summary="Sign out: revoke this token", request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format=format)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["account"], summary="«Мои данные»: tier, next tier, contacts", responses={200: UserSerializer})
    def get(self, request):
        return Response(UserSerializer(request.user).data)
