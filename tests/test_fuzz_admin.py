"""Hostile values in every field and parameter the admin and the lists read: never a 500.

Nothing here is listed by hand. The admin forms come from the admin site's
registry (each model's add and change page, inline rows and management forms
included, read off the page as a browser would submit it), the changelist
parameters from each changelist's own filters, and the dashboard's lists from
the URL resolver (every GET form on every page). A new admin, filter, field or
list is fuzzed without editing this file.

The test client re-raises whatever a view lets escape, so a 500 fails the test
with its traceback. Run on SQLite and on PostgreSQL (NUL bytes and over-long
values fail differently on each).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.test import RequestFactory
from django.urls import reverse

from . import test_access_matrix as matrix
from .factories import HeldCertificationFactory, UserFactory
from .test_access_matrix import world  # noqa: F401 (a fixture)

HOSTILE_TEXT = ("abc", "x\x00y", "x" * 5_000)
HOSTILE_NUMBERS = ("99999999999999999999999", "-99999999999", "-1")
HOSTILE = HOSTILE_TEXT + HOSTILE_NUMBERS
SKIPPED_INPUTS = {"csrfmiddlewaretoken", "_save", "_continue", "_addanother", "_saveasnew"}


class FormReader(HTMLParser):
    """The fields each <form> on a page would submit, as a browser fills them in."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None

    @property
    def current(self) -> dict:
        return self.forms[-1] if self.forms else {"fields": {}}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        fields = self.current["fields"]
        if tag == "form":
            self.forms.append(
                {
                    "id": attr.get("id", ""),
                    "method": attr.get("method", "get").lower(),
                    "action": attr.get("action", ""),
                    "fields": {},
                }
            )
        elif tag == "input" and attr.get("name"):
            kind = attr.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    fields[attr["name"]] = attr.get("value", "on")
                else:
                    fields.setdefault(attr["name"], None)
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields[attr["name"]] = attr.get("value", "")
        elif tag == "select" and attr.get("name"):
            self._select, self._select_value = attr["name"], None
        elif tag == "option" and self._select:
            if self._select_value is None or "selected" in attr:
                self._select_value = attr.get("value", "")
        elif tag == "textarea" and attr.get("name"):
            self._textarea = attr["name"]
            fields[attr["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            self.current["fields"][self._select] = self._select_value or ""
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.current["fields"][self._textarea] += data


def forms_of(html: str) -> list[dict]:
    reader = FormReader()
    reader.feed(html)
    for form in reader.forms:
        form["fields"] = {
            name: value
            for name, value in form["fields"].items()
            if value is not None and name not in SKIPPED_INPUTS
        }
    return reader.forms


def representative(name: str) -> bool:
    """One row of each inline stands for its siblings (same fields, same code)."""
    return not re.search(r"-([1-9][0-9]*|__prefix__)-", name)


def hostile_variants(fields: dict):
    """Each field in turn with each hostile value, the others as the page filled them in.

    Numbers go only where a number or an id is expected (the page shows one, or none).
    """
    for name in filter(representative, fields):
        numeric = re.fullmatch(r"-?[0-9]*", fields[name] or "") is not None
        for value in HOSTILE if numeric else HOSTILE_TEXT:
            yield name, {**fields, name: value}


@pytest.fixture
def superuser(world):  # noqa: F811 (the fixture above)
    # A held certification and the hire's plan give every admin a row to change.
    HeldCertificationFactory(hire=world["hire"])
    return UserFactory(username="fuzzer", is_superuser=True, is_staff=True)


def registered_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def admin_form(client, url: str) -> dict | None:
    response = client.get(url)
    if response.status_code != 200:
        return None
    for form in forms_of(response.content.decode()):
        if form["method"] == "post" and form["id"].endswith("_form"):
            return form["fields"]
    return None


@pytest.mark.parametrize(
    "model", [model for model, _ in registered_admins()], ids=lambda model: model._meta.label
)
def test_it_never_fails_on_hostile_admin_form_fields(client, superuser, model):
    client.force_login(superuser)
    request = RequestFactory().get("/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    pages = []
    if model_admin.has_add_permission(request):
        pages.append(admin_url(model, "add"))
    existing = model._default_manager.order_by("pk").first()
    if existing is not None and model_admin.has_change_permission(request, existing):
        pages.append(admin_url(model, "change", existing.pk))
    for url in pages:
        fields = admin_form(client, url)
        assert fields is not None, f"no form on {url}"
        for name, data in hostile_variants(fields):
            response = client.post(url, data)
            assert response.status_code in (200, 302, 400, 403, 404), (url, name)
            if response.status_code == 302:
                # Saved: the version moved on, so read the form again as a person would.
                fields = admin_form(client, url) or fields


def changelist_parameters(model, model_admin, user) -> list[str]:
    """Every parameter the changelist reads: its filters', search, ordering and paging."""
    request = RequestFactory().get(admin_url(model, "changelist"))
    request.user = user
    changelist: ChangeList = model_admin.get_changelist_instance(request)
    names = {"q", "o", "p", "all", "_to_field", "e"}
    # Bare field names too: the changelist applies any lookup it is given.
    names.update(field.name for field in model._meta.concrete_fields)
    for spec in changelist.filter_specs:
        names.update(spec.expected_parameters())
    if model_admin.date_hierarchy:
        names.update(f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    return sorted(names)


@pytest.mark.parametrize(
    "model", [model for model, _ in registered_admins()], ids=lambda model: model._meta.label
)
def test_it_never_fails_on_hostile_changelist_parameters(client, superuser, model):
    client.force_login(superuser)
    model_admin = admin.site._registry[model]
    url = admin_url(model, "changelist")
    for name in changelist_parameters(model, model_admin, superuser):
        for value in HOSTILE:
            response = client.get(url, {name: value})
            assert response.status_code in (200, 302, 400), (name, value[:20])
    autocomplete = reverse("admin:autocomplete")
    for value in HOSTILE:
        response = client.get(
            autocomplete,
            {
                "term": value,
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": "id",
            },
        )
        assert response.status_code in (200, 400, 403, 404)


def get_routes() -> list[str]:
    return sorted(
        name
        for name, route in matrix.app_routes()
        if route.kind in (matrix.SIGNED_IN, matrix.OWNED, matrix.CATALOG_WRITE, matrix.PUBLIC)
        and name not in ("logout", "password_change_done")
    )


@pytest.mark.parametrize("name", get_routes())
def test_it_never_fails_on_hostile_list_parameters(client, superuser, world, name):  # noqa: F811
    if matrix.ROUTES[name].kind != matrix.PUBLIC:
        client.force_login(superuser)
    url = matrix.url(name, world)
    page = client.get(url)
    assert page.status_code == 200
    names = {"page", "q", "sort", "o", "per_page"}
    if page.get("Content-Type", "").startswith("text/html"):
        for form in forms_of(page.content.decode()):
            if form["method"] == "get":
                names.update(form["fields"])
    for param in sorted(names):
        for value in HOSTILE:
            response = client.get(f"{url}?{urlencode({param: value})}")
            assert response.status_code in (200, 302, 400, 404), (param, value[:20])
            # Streamed exports fail while streaming: read them to the end.
            if response.status_code == 200 and response.streaming:
                b"".join(response.streaming_content)
