"""Absolute links: where emails, the calendar feed and the profile page point.

`SITE_URL`, when set, is the canonical address and wins everywhere. When it is not
set, a link made while answering a request follows the host the person (or their
calendar app) used, so the app works on any host and port without configuration.
Links made outside a request (the daily digest from a scheduled command) fall back
to `FALLBACK_SITE_URL`: set SITE_URL in production.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

FALLBACK_SITE_URL = "http://localhost:8000"


def site_root(request: HttpRequest | None = None) -> str:
    """Scheme and host, no trailing slash: SITE_URL, else the request's, else the fallback."""
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/")
    if request is not None:
        # get_host() checks the host against ALLOWED_HOSTS, so a forged Host header
        # cannot put another site's address into a link.
        return f"{request.scheme}://{request.get_host()}"
    return FALLBACK_SITE_URL


def absolute_url(path: str, *, root: str | None = None) -> str:
    """`path` under `root` (a `site_root()` result), or under the configured site."""
    return f"{root or site_root()}{path}"
