"""Forms of the dashboard and the sign-in page."""

import ipaddress
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.forms import BaseInlineFormSet
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, ManagementForm
from django.http import HttpRequest
from django.utils.functional import cached_property

User = get_user_model()


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Both are case-sensitive.",
    }


def sign_in_username(request: HttpRequest, credentials: dict | None) -> str:
    """The username django-axes counts failures against, cut to what an account can have."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(username)[: User._meta.get_field("username").max_length]


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from, as django-axes counts sign-in failures by it.

    Without trusted proxies, REMOTE_ADDR. Behind TRUSTED_PROXY_COUNT of them, the
    entry that many places from the right of X-Forwarded-For: each proxy appends
    the address it received the request from, so entries further left are the
    client's own words. Anything that is not an IP address counts as REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote


class CheckedCountsInlineFormSet(BaseInlineFormSet):
    """An inline formset that refuses tampered row counters as Django refuses missing ones.

    Django checks that the counters are numbers, not that they are possible: a
    negative INITIAL_FORMS makes every existing row look new (so saving inserts
    duplicates), and more initial rows than rows in total cannot happen in a
    browser. Such a form gets Django's own "tampered with" error and saves nothing.
    """

    @cached_property
    def management_form(self) -> ManagementForm:
        form = super().management_form
        if self.is_bound and form.is_valid():
            initial = form.cleaned_data[INITIAL_FORM_COUNT]
            total = form.cleaned_data[TOTAL_FORM_COUNT]
            if not 0 <= initial <= total:
                form.add_error(None, "Impossible row counts.")
                form.cleaned_data[INITIAL_FORM_COUNT] = form.cleaned_data[TOTAL_FORM_COUNT] = 0
        return form


class VersionedForm(forms.Form):
    """Carries the version of the row the person saw, for the service's stale-save check.

    Mix in before ModelForm: `class CourseForm(VersionedForm, forms.ModelForm)`.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk and not self.is_bound:
            self.fields["expected_version"].initial = instance.version
