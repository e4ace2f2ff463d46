"""Request checks that hold for every view.

HireAreaMiddleware keeps a signed-in hire inside their own area of the product.

A hire's account sees /me/ (their plan, check-ins and evidence) and the few pages
every account needs (signing out, changing the password). Every other page,
export, admin page and API answers 404, as another manager's hire does: the rest
of the product does not exist for them. Their home is /me/.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
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


# Longer than any link the product makes (a filtered list with every filter is about
# 600 characters), far shorter than what makes SQLite's LIKE give up (50,000).
MAX_QUERY_STRING = 4_096


class UnreadableInputMiddleware:
    """Answers 400 to a request no person could have made: NUL bytes, endless addresses.

    A NUL byte cannot be stored in PostgreSQL text and nobody types one; without
    this check it reaches a query in the address (`/calendar/%00.ics`), a search
    box or an admin filter and ends in a DataError (a 500). Forms already refuse
    one in a text field with a message; this covers everything else at the door.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
            raise BadRequest("The address is too long.")
        # A malformed or oversized body raises here as it would in the view: Django
        # answers those with 400 itself.
        form_data = request.POST if request.method == "POST" else None
        if "\x00" in request.path or _has_nul(request.GET) or _has_nul(form_data):
            raise BadRequest("The request contains a NUL character.")
        return self.get_response(request)


def _has_nul(data: QueryDict | None) -> bool:
    if not data:
        return False
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key)) for key in data)
