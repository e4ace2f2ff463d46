"""API tokens in the admin: who has which, when each was last used; revoke, never show.

Tokens are made on the profile page or with `manage.py create_api_token`, where the
secret is shown once; the admin has no secret to show (only a hash is kept).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .. import services
from ..models import ApiToken
from .scoping import ScopedAdmin, apply_to_each


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedAdmin):
    list_display = ("name", "user", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    show_full_result_count = False
    fields = ("name", "user", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke_selected",)
    str_select_related = ()

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Revoked, not deleted: the row says the token existed and when it was used.
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        apply_to_each(
            request,
            queryset,
            apply=lambda token: services.api_token_revoke(actor=request.user, token=token),
            skip=lambda token: token.revoked_at is not None,
            verb="revoked",
            skip_reason="already revoked",
        )
