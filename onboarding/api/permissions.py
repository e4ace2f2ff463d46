"""Who may call the API, and a token's scope."""

from __future__ import annotations

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from ..models import ApiToken
from ..rules import is_hire_account


class TokenScope(permissions.BasePermission):
    """Signed-in staff only; a read token reads, a read-write token (or a session) writes.

    A hire's own account gets 404 here as everywhere outside /me/.
    """

    message = "This token may only read: make a read-write token to change data."

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated or not user.is_active:
            raise exceptions.NotAuthenticated()
        if is_hire_account(user):
            raise exceptions.NotFound()
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        if isinstance(token, ApiToken):
            return token.scope == ApiToken.Scope.WRITE
        return True
