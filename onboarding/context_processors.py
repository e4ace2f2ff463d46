"""Template context every page needs."""

from __future__ import annotations

from django.http import HttpRequest

from .rules import is_hire_account


def hire_area(request: HttpRequest) -> dict:
    """Whether the signed-in user is a hire's own account (their navigation is different)."""
    user = getattr(request, "user", None)
    return {"hire_account": bool(user and is_hire_account(user))}
