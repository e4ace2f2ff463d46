"""The admin site itself: what every registered admin gets, ours and third-party alike.

Settings name this class as the default admin site (apps.OnboardingAdminConfig),
so `admin.site` is an instance of it. It lives outside the admin package, which
registers into it and so cannot be imported while the site is being made.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import (
    EmptyResultSet,
    FullResultSet,
    ObjectDoesNotExist,
    ValidationError,
)
from django.db.models import BinaryField, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path


@functools.cache
def checked_changelist(changelist: type[ChangeList]) -> type[ChangeList]:
    """`changelist`, answering more impossible parameters with Django's "?e=1" redirect.

    Django does so for a year like `abc` or an unknown field, but lets a year
    beyond what `datetime` holds raise OverflowError, and a value the database
    cannot take (`ip_address=abc` on PostgreSQL) fail only when the page renders
    the rows: both were 500s.
    """

    class Checked(changelist):
        def get_filters(self, request: HttpRequest) -> Any:
            try:
                return super().get_filters(request)
            except OverflowError as error:
                raise IncorrectLookupParameters(error) from error

        def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
            # A binary field takes bytes; a parameter is text, which PostgreSQL's driver
            # refuses only while running the query (after the check below).
            binary = {
                field.name
                for field in self.model._meta.concrete_fields
                if isinstance(field, BinaryField)
            }
            if any(key.split("__")[0] in binary for key in request.GET):
                raise IncorrectLookupParameters("Binary fields cannot be filtered on.")
            queryset = super().get_queryset(request, exclude_parameters)
            try:
                # Compiling turns the values into database values, as rendering would.
                queryset.query.get_compiler(queryset.db).as_sql()
            except (EmptyResultSet, FullResultSet):
                pass  # a filter that matches nothing (or everything) is fine
            except (ValueError, TypeError, OverflowError, ValidationError) as error:
                raise IncorrectLookupParameters(error) from error
            return queryset

    Checked.__name__ = Checked.__qualname__ = f"Checked{changelist.__name__}"
    return Checked


class CheckedChangeListMixin:
    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return checked_changelist(super().get_changelist(request, **kwargs))


class OnboardingAdminSite(admin.AdminSite):
    site_header = "Onboarding tracker"
    site_title = "Onboarding tracker admin"
    # Managers use the admin too: the title names no role.
    index_title = "Your workspace"
    # The app list beside every page left a changelist 630 of 1280 px; the breadcrumbs
    # and the home page lead everywhere it did.
    enable_nav_sidebar = False

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        # Third-party admins (auth, axes) get the same checks as ours.
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, CheckedChangeListMixin):
            admin_class = type(
                admin_class.__name__,
                (CheckedChangeListMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def get_urls(self) -> list:
        # First, so it takes the place of Django's own "view on site" redirect.
        view_on_site = path(
            "r/<int:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        )
        return [view_on_site, *super().get_urls()]

    def view_on_site(
        self, request: HttpRequest, content_type_id: int, object_id: str
    ) -> HttpResponse:
        """Django's redirect to an object's page, for objects this person may see only.

        Django's own answers 404 for an id that does not exist but redirects for
        another manager's hire, which tells an outsider the hire exists.
        """
        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except ContentType.DoesNotExist:
            raise Http404 from None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.has_view_or_change_permission(request):
            raise Http404
        try:
            model_admin.get_queryset(request).get(pk=object_id)
        except (ObjectDoesNotExist, ValidationError, ValueError, OverflowError):
            raise Http404 from None
        return shortcut(request, content_type_id, object_id)
