"""The private calendar feed: /calendar/<token>.ics, no login cookie needed.

Calendar apps cannot sign in, so the secret token in the URL is the credential.
An unknown or revoked token answers 404, the same as any missing page.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from ..calendar_feed import build_feed
from ..links import site_root
from ..models import User


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    owner = User.objects.filter(calendar_token=token, is_active=True).first()
    if owner is None:
        raise Http404("No such calendar.")
    response = HttpResponse(
        build_feed(owner, link_root=site_root(request)), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="onboarding.ics"'
    # The URL is a secret: keep it out of shared caches and search engines.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


urlpatterns = [
    path("calendar/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
