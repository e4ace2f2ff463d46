"""The fixed yardstick of `make bench`: a stock Django admin changelist of the hires.

A plain `ModelAdmin` on its own `AdminSite` instance, never registered on the
project's admin site, so that it does not move when our own admin changes: five
columns, `list_select_related`, 50 rows a page. Each site shows the same rows as
one of our pages (the hires FilterSet's own queryset for that filter, so "same
filter" holds by construction), in the hires list's default order.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from onboarding import selectors
from onboarding.models import NewHire

# name -> the hires filter the yardstick applies (the page compared with it uses the same).
FILTERS: dict[str, dict[str, str]] = {
    "all": {},
    "overdue": {"has_overdue": "true"},
}


class YardstickHireAdmin(admin.ModelAdmin):
    list_display = ("full_name", "email", "start_date", "role_profile", "hiring_manager")
    list_select_related = ("role_profile", "hiring_manager")
    list_per_page = 50
    ordering = ("-start_date", "full_name")
    filter_data: dict[str, str] = {}

    def get_queryset(self, request):
        return selectors.filtered("hires", self.filter_data, user=request.user)


def _site(name: str, data: dict[str, str]) -> admin.AdminSite:
    site = admin.AdminSite(name=f"yardstick_{name}")
    site.register(
        NewHire, type(f"Yardstick{name.title()}", (YardstickHireAdmin,), {"filter_data": data})
    )
    return site


SITES = {name: _site(name, data) for name, data in FILTERS.items()}


def url(name: str, page: int = 1) -> str:
    """The yardstick changelist showing `page` (1-based, as in Django 5) of filter `name`."""
    base = f"/bench-yardstick/{name}/onboarding/newhire/"
    return base if page == 1 else f"{base}?p={page}"


urlpatterns = [path(f"bench-yardstick/{name}/", site.urls) for name, site in SITES.items()]
