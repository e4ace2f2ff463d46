"""One FilterSet per list, shared by the dashboard page and its CSV export.

The export of a filtered list takes the same query string as the page, so it
contains exactly the rows the manager is looking at.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .forms.widgets import PythonSelect
from .models import Assignment, NewHire, PlanProgress, RoleProfile, User
from .rules import Health, can_view_all, overdue_cutoff, overdue_q


def batch_change_reason(batch: str) -> str:
    """What the first history row of each hire of an import says: the import writes it
    (services.hire_bulk_import) and the hires list's `?imported=` filter reads it."""
    return f"Import {batch}"


ARCHIVED_CHOICES = [("active", "Active"), ("archived", "Archived"), ("all", "All")]

# Longer than any name, email or title; a longer search is a paste gone wrong.
SEARCH_MAX_LENGTH = 200


def managers_with_hires() -> QuerySet[User]:
    # EXISTS rather than JOIN + DISTINCT: the join would read every hire (64 ms at 100k).
    manages = NewHire.objects.filter(hiring_manager=OuterRef("pk"))
    return User.objects.filter(Exists(manages)).order_by("username")


class ScopedFilterSet(django_filters.FilterSet):
    """A list's filters for `user` (None: the system, which sees every hire).

    The manager filter is offered only to those who see more than their own hires.
    """

    manager_field = "hiring_manager"

    def __init__(self, data=None, queryset=None, *, user: User | None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.user = user
        if user is None or can_view_all(user):
            self.filters[self.manager_field].queryset = managers_with_hires()
        else:
            self.filters.pop(self.manager_field, None)


class HireFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        method="filter_q", label="Search name or email", max_length=SEARCH_MAX_LENGTH
    )
    role_profile = django_filters.ModelChoiceFilter(
        queryset=RoleProfile.objects.all(), empty_label="Any role profile", widget=PythonSelect
    )
    start_after = django_filters.DateFilter(
        field_name="start_date",
        lookup_expr="gte",
        label="Starts on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    start_before = django_filters.DateFilter(
        field_name="start_date",
        lookup_expr="lte",
        label="Starts on or before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    health = django_filters.ChoiceFilter(
        choices=Health.choices,
        method="filter_health",
        empty_label="Any health",
        label="Plan health",
        widget=PythonSelect,
    )
    has_overdue = django_filters.BooleanFilter(
        method="filter_has_overdue",
        label="Has overdue training",
        widget=PythonSelect(choices=[("", "Any"), ("true", "Yes"), ("false", "No")]),
    )
    undiscussed_guidance = django_filters.BooleanFilter(
        method="filter_undiscussed_guidance",
        label="Guidance not yet discussed",
        widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")]),
    )
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES,
        method="filter_archived",
        empty_label=None,
        null_value="active",
        label="Show",
        widget=PythonSelect,
    )
    # The hires of one import (where an import lands); kept as a hidden field.
    imported = django_filters.CharFilter(
        method="filter_imported", widget=forms.HiddenInput, max_length=40, label="Import"
    )
    hiring_manager = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(),
        label="Hiring manager",
        empty_label="Any manager",
        widget=PythonSelect,
    )
    sort = django_filters.OrderingFilter(
        fields=(
            ("full_name", "name"),
            ("start_date", "start"),
            ("role_profile__name", "role"),
            ("hiring_manager__username", "manager"),
        ),
        label="Sort by",
        empty_label="Latest start first",  # selectors.LISTS["hires"]
    )

    class Meta:
        model = NewHire
        fields = []

    @property
    def form(self):
        # Rendered by partials/filter_form.html with Bootstrap classes set here rather
        # than through crispy-forms: its field template was a tenth of the hires
        # page's time on every dashboard load.
        form = super().form
        if not getattr(form, "bootstrap_classes_set", False):
            form.bootstrap_classes_set = True
            invalid = set(form.errors) if form.is_bound else set()
            for name, field in form.fields.items():
                attrs = field.widget.attrs
                attrs["class"] = (
                    "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                )
                if name in invalid:
                    attrs["class"] += " is-invalid"
                    attrs["aria-invalid"] = "true"
                    attrs["aria-describedby"] = f"id_{name}_error"
        return form

    @property
    def qs(self):
        # "Show: Active" is the default even when the parameter is absent.
        queryset = super().qs
        if not self.form.is_valid() or not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_health(self, queryset, name, value):
        ids = queryset.with_progress().filter(health=value).values("pk")
        return queryset.filter(pk__in=ids)

    def filter_has_overdue(self, queryset, name, value):
        # The plans' progress rows hold the earliest open due date and the hire: one
        # index probe per hire instead of reading its assignments.
        overdue = PlanProgress.objects.filter(
            hire=OuterRef("pk"), next_open_due__lt=overdue_cutoff()
        )
        return queryset.filter(Exists(overdue) if value else ~Exists(overdue))

    def filter_undiscussed_guidance(self, queryset, name, value):
        # The same progress rows as the dashboard's "Guidance not yet discussed" card.
        undiscussed = PlanProgress.objects.filter(
            hire=OuterRef("pk"), undiscussed_guidance_count__gt=0
        )
        return queryset.filter(Exists(undiscussed) if value else ~Exists(undiscussed))

    def filter_imported(self, queryset, name, value):
        created = NewHire.history.filter(
            history_type="+", history_change_reason=batch_change_reason(value)
        )
        return queryset.filter(pk__in=created.values("id"))

    def filter_archived(self, queryset, name, value):
        if value == "archived":
            return queryset.filter(archived_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)


class AssignmentFilterSet(ScopedFilterSet):
    manager_field = "hiring_manager"

    q = django_filters.CharFilter(
        method="filter_q", label="Search hire or course", max_length=SEARCH_MAX_LENGTH
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Assignment.Status.choices, widget=forms.CheckboxSelectMultiple
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label="Overdue",
        widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")]),
    )
    due_after = django_filters.DateFilter(
        field_name="due_date",
        lookup_expr="gte",
        label="Due on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due_before = django_filters.DateFilter(
        field_name="due_date",
        lookup_expr="lte",
        label="Due on or before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    provider = django_filters.CharFilter(
        field_name="course__provider", lookup_expr="iexact", label="Provider"
    )
    paid_by = django_filters.ChoiceFilter(
        choices=Assignment.PaidBy.choices, empty_label="Any payer"
    )
    role_profile = django_filters.ModelChoiceFilter(
        field_name="plan__hire__role_profile",
        queryset=RoleProfile.objects.all(),
        empty_label="Any role profile",
        label="Role profile",
    )
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES,
        method="filter_archived",
        empty_label=None,
        label="Hires",
    )
    hiring_manager = django_filters.ModelChoiceFilter(
        field_name="plan__hire__hiring_manager",
        queryset=User.objects.none(),
        label="Hiring manager",
        empty_label="Any manager",
    )
    sort = django_filters.OrderingFilter(
        fields=(
            ("due_date", "due"),
            ("plan__hire__full_name", "hire"),
            ("course__title", "course"),
            ("status", "status"),
        ),
        label="Sort by",
        empty_label="Due date (default)",  # selectors.LISTS["assignments"]
    )

    class Meta:
        model = Assignment
        fields = []

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.is_valid() or not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(plan__hire__archived_at__isnull=True)
        return queryset

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(plan__hire__full_name__icontains=value)
            | Q(plan__hire__email__icontains=value)
            | Q(course__title__icontains=value)
        )

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())

    def filter_archived(self, queryset, name, value):
        if value == "archived":
            return queryset.filter(plan__hire__archived_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(plan__hire__archived_at__isnull=True)


class TuitionFilterSet(AssignmentFilterSet):
    """Tuition spend: the assignment filters plus the year the spend falls in."""

    year = django_filters.NumberFilter(
        field_name="due_date", lookup_expr="year", label="Year", min_value=2000, max_value=2100
    )
    # Free courses cost nothing: their "Free 0.00" rows are left out unless asked for.
    include_free = django_filters.BooleanFilter(
        method="filter_include_free", label="Show free courses", widget=forms.CheckboxInput
    )

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.is_valid() or not self.form.cleaned_data.get("include_free"):
            queryset = queryset.exclude(paid_by=Assignment.PaidBy.FREE)
        return queryset

    def filter_include_free(self, queryset, name, value):
        return queryset  # the default (leaving them out) is applied in qs


def recent_quarters(today: datetime.date | None = None, count: int = 12) -> list[tuple[str, str]]:
    """("2026-Q3", "Q3 2026") for this quarter and the `count - 1` before it, newest first."""
    today = today or timezone.localdate()
    index = today.year * 4 + (today.month - 1) // 3
    quarters = []
    for back in range(count):
        year, quarter = divmod(index - back, 4)
        quarters.append((f"{year}-Q{quarter + 1}", f"Q{quarter + 1} {year}"))
    return quarters


def quarter_bounds(value: str) -> tuple[datetime.date, datetime.date]:
    year, quarter = int(value[:4]), int(value[-1])
    first = datetime.date(year, 3 * quarter - 2, 1)
    last_month = 3 * quarter
    last = (
        datetime.date(year, 12, 31)
        if last_month == 12
        else datetime.date(year, last_month + 1, 1) - datetime.timedelta(days=1)
    )
    return first, last


class OutcomeFilterSet(ScopedFilterSet):
    """The outcome report and its exports: which hires (start quarter, role profile,
    manager) and which providers' courses."""

    start_quarter = django_filters.ChoiceFilter(
        choices=recent_quarters,
        method="filter_start_quarter",
        empty_label="Any start quarter",
        label="Start quarter",
    )
    role_profile = django_filters.ModelChoiceFilter(
        queryset=RoleProfile.objects.all(), empty_label="Any role profile", label="Role profile"
    )
    hiring_manager = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), label="Hiring manager", empty_label="Any manager"
    )
    provider = django_filters.CharFilter(
        method="filter_provider",
        label="Course provider",
        max_length=200,
        help_text="Only this provider's courses (the hires compared stay the same).",
    )

    class Meta:
        model = NewHire
        fields = []

    def filter_start_quarter(self, queryset, name, value):
        first, last = quarter_bounds(value)
        return queryset.filter(start_date__gte=first, start_date__lte=last)

    def filter_provider(self, queryset, name, value):
        # Narrows the courses reported on, not the hires (selectors.outcomes reads it).
        return queryset

    def chosen_provider(self) -> str:
        return (self.form.cleaned_data.get("provider") or "").strip() if self.is_valid() else ""
