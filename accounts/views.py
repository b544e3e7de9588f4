from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors


@login_required
def cabinet(request: HttpRequest) -> HttpResponse:
    """«Мои данные»: tier, what the next tier needs, contacts and their state."""
    user = request.user
    return render(
        request,
        "accounts/cabinet.html",
        {
            "user_obj": user,
            "next_tier": selectors.user_next_tier(user=user),
            "tier_history": user.tier_changes.all()[:10],
        },
    )
