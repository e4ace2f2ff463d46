"""Figures and tables cached until the data they come from changes.

The dashboard's figures and the hires table are pure functions of the data, the
viewer and the day. They are computed once and kept in Django's cache (local memory
by default, Redis with CACHE_URL) under a key made of:

- the data version: a token the database changes with every committed change of
  the tables they read (DataVersion, changed by triggers.py, so no writer can forget);
- the viewer (who sees what, and which links and actions a page offers them);
- today's date (what is overdue or due soon moves at midnight);
- what the request asked for (path and query string);
- the templates' text (after a deploy that changes one, no older HTML is served).

A write therefore never leaves a stale figure behind: the next read misses and
recomputes. Nothing is cached inside a transaction that has written watched rows
and not committed yet (PostgreSQL says so), nor when the version row is missing.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from .triggers import CHANGED_SETTING

T = TypeVar("T")

# Entries of older versions are never read again; this only bounds their stay.
TIMEOUT_SECONDS = 60 * 60


def _templates_stamp() -> str:
    """A digest of the project's templates: cached HTML of other templates is never read."""
    digest = hashlib.sha256()
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(folder).rglob("*.html")):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


TEMPLATES_STAMP = _templates_stamp()

_VERSION_SQL = {
    "sqlite": "SELECT token, '' FROM onboarding_dataversion WHERE id = 1",
    "postgresql": (
        f"SELECT token, current_setting('{CHANGED_SETTING}', true) "  # noqa: S608 - a constant
        "FROM onboarding_dataversion WHERE id = 1"
    ),
}


def data_version() -> int | None:
    """The current data version, or None when figures must not be cached now."""
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL[connection.vendor])
        row = cursor.fetchone()
    if row is None or row[1] == "yes":
        return None
    return row[0]


def request_data_version(request: HttpRequest) -> int | None:
    """The data version, read once per request however many parts of a page are cached."""
    if not hasattr(request, "_onboarding_data_version"):
        request._onboarding_data_version = data_version()
    return request._onboarding_data_version


def key_for(
    name: str, *, version: int, user_id: int, today: datetime.date, varies: str = ""
) -> str:
    varies_hash = hashlib.sha256(varies.encode()).hexdigest()[:16]
    return f"onboarding:{name}:{TEMPLATES_STAMP}:{version}:{user_id}:{today:%Y%m%d}:{varies_hash}"


def cached_for_request(
    request: HttpRequest, name: str, compute: Callable[[], T], *, varies: str = ""
) -> T:
    """`compute()`, or what it gave for this viewer, day and `varies` at this data version.

    `compute` must depend on nothing but the data, the viewer, the day and what
    `varies` names (for a page: its path and query string).
    """
    version = request_data_version(request)
    if version is None:
        return compute()
    key = key_for(
        name,
        version=version,
        user_id=request.user.pk,
        today=timezone.localdate(),
        varies=varies,
    )
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, TIMEOUT_SECONDS)
    return found


def cached_render(
    request: HttpRequest,
    name: str,
    template_name: str,
    context: Callable[[], dict],
    *,
    varies: str = "",
) -> str:
    """`template_name` rendered with `context()` (HTML, safe), cached as `cached_for_request`
    caches: the context is only computed when the cache has no copy."""
    return cached_for_request(
        request,
        name,
        lambda: render_to_string(template_name, context(), request),
        varies=varies,
    )


def page_varies(request: HttpRequest) -> str:
    """What a page's cached parts vary with besides the viewer: its path and parameters."""
    return request.get_full_path()
