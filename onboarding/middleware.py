"""Keeps a signed-in hire inside their own area of the product.

A hire's account sees /me/ (their plan, check-ins and evidence) and the few pages
every account needs (signing out, changing the password). Every other page,
export, admin page and API answers 404, as another manager's hire does: the rest
of the product does not exist for them. Their home is /me/.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .rules import is_hire_account

# URL names a hire's account may open (names, not paths, so a moved URL stays covered).
HIRE_URL_NAMES = frozenset(
    {
        "logout",
        "password_change",
        "password_change_done",
        "onboarding:healthz",
        "onboarding:invitation_accept",
        "onboarding:evidence_download",
    }
)


class HireAreaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not is_hire_account(request.user):
            return None
        match = request.resolver_match
        name = match.view_name if match else ""
        if name.startswith("onboarding:me") or name in HIRE_URL_NAMES:
            return None
        if name == "onboarding:home":
            return redirect(reverse("onboarding:me"))
        raise Http404
