"""Webhook endpoints, their deliveries, and background tasks that failed: people-ops' admin.

People-ops (rules.can_view_all) register endpoints here; every save goes through
services.webhook_endpoint_save, which refuses an address webhooks may not reach.
Deliveries and failed tasks are read-only records; "Retry now" and "Send a test
event" go through services too.

django-tasks-db's own admin for its queue (DBTaskResult) stays for superusers only:
a queued invitation task carries the hire's one-time link in its arguments, which
TaskFailure leaves out.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from .. import services, webhooks
from ..models import HireImport, TaskFailure, WebhookDelivery, WebhookEndpoint, WebhookEvent
from ..rules import can_view_all
from .scoping import VersionedAdminForm


class PeopleOpsOnly:
    """Visible to people-ops (and superusers through their permissions), nobody else."""

    read_only = False

    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_active and (request.user.is_superuser or can_view_all(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return not self.read_only and self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not self.read_only and self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not self.read_only and self._allowed(request)


class WebhookEndpointForm(VersionedAdminForm):
    noun = "webhook endpoint"
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "events", "active")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhooks.resolve(url)
        except webhooks.RefusedAddress as error:
            raise forms.ValidationError(str(error), code="refused") from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(PeopleOpsOnly, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "event_list", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url")
    readonly_fields = ("secret", "created_by", "created_at", "recent_deliveries")
    actions = ("send_test_event",)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None):
        # The secret exists once the endpoint is saved; receivers copy it from here.
        return self.readonly_fields if obj else ()

    @admin.display(description="events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events) if isinstance(obj.events, list) else "-"

    @admin.display(description="latest deliveries")
    def recent_deliveries(self, obj: WebhookEndpoint) -> str:
        rows = obj.deliveries.order_by("-created_at", "-id")[:10]
        if not rows:
            return "-"
        return format_html_join(
            "",
            "<div>{} {} - {} ({} attempts)</div>",
            (
                (d.created_at.strftime("%Y-%m-%d %H:%M"), d.event, d.status, len(d.attempts))
                for d in rows
            ),
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.webhook_endpoint_save(
            actor=request.user, endpoint=obj, expected_version=form.expected()
        )

    @admin.action(description="Send a test event", permissions=["view"])
    def send_test_event(self, request: HttpRequest, queryset) -> None:
        for endpoint in queryset:
            services.webhook_endpoint_test(actor=request.user, endpoint=endpoint)
        messages.success(request, f"A test event is on its way to {queryset.count()} endpoint(s).")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(PeopleOpsOnly, admin.ModelAdmin):
    read_only = True
    list_display = (
        "created_at",
        "event",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
    )
    list_filter = ("status", "event", "endpoint")
    list_select_related = ("endpoint",)
    search_fields = ("message_id",)
    date_hierarchy = "created_at"
    fields = (
        "endpoint",
        "event",
        "message_id",
        "status",
        "next_attempt_at",
        "created_at",
        "attempt_log",
        "payload",
    )
    readonly_fields = fields
    actions = ("retry_now",)

    @admin.display(description="attempts")
    def attempt_count(self, obj: WebhookDelivery) -> int:
        return len(obj.attempts)

    @admin.display(description="last answer")
    def last_status_code(self, obj: WebhookDelivery) -> str:
        if not obj.attempts:
            return "-"
        last = obj.attempts[-1]
        return str(last.get("status_code") or last.get("error") or "-")

    @admin.display(description="attempt log")
    def attempt_log(self, obj: WebhookDelivery) -> str:
        if not obj.attempts:
            return "No attempt yet."
        return format_html(
            "<table><thead><tr><th>#</th><th>at</th><th>status</th><th>error</th>"
            "<th>ms</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        a.get("attempt"),
                        a.get("at"),
                        a.get("status_code") or "-",
                        a.get("error") or "",
                        a.get("ms"),
                    )
                    for a in obj.attempts
                ),
            ),
        )

    @admin.action(description="Retry now", permissions=["view"])
    def retry_now(self, request: HttpRequest, queryset) -> None:
        count = 0
        for delivery in queryset.exclude(status=WebhookDelivery.Status.DELIVERED):
            services.webhook_delivery_retry(actor=request.user, delivery=delivery)
            count += 1
        messages.success(request, f"{count} delivery(ies) will be tried again now.")


@admin.register(TaskFailure)
class TaskFailureAdmin(PeopleOpsOnly, admin.ModelAdmin):
    read_only = True
    list_display = ("failed_at", "task_name", "attempts", "short_error")
    list_filter = ("task_name",)
    search_fields = ("task_name", "error")
    date_hierarchy = "failed_at"
    fields = ("task_name", "arguments", "attempts", "error", "failed_at")
    readonly_fields = fields

    @admin.display(description="error")
    def short_error(self, obj: TaskFailure) -> str:
        return obj.error[:120]


@admin.register(HireImport)
class HireImportAdmin(PeopleOpsOnly, admin.ModelAdmin):
    """Cohort imports run in the background: who ran which file, how far it got, and the
    row that stopped a failed one. The file itself is not shown (it holds personal data,
    and is dropped when the run ends)."""

    read_only = True
    list_display = (
        "created_at",
        "file_name",
        "created_by",
        "status",
        "rows_total",
        "rows_done",
        "error_row",
    )
    list_filter = ("status",)
    list_select_related = ("created_by",)
    search_fields = ("file_name", "created_by__username", "batch")
    date_hierarchy = "created_at"
    fields = (
        "file_name",
        "created_by",
        "template",
        "with_plans",
        "batch",
        "status",
        "rows_total",
        "rows_checked",
        "rows_done",
        "error_row",
        "error_field",
        "error_message",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
