"""The API's filters: the pages' FilterSets (so a list answers what the page shows), plus
filters by parent object that only the API needs."""

from __future__ import annotations

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend

from .. import filters as page_filters
from ..models import CheckIn, Course, HeldCertification, PlanGuidance, TrainingPlan
from ..rules import CheckInKind

# The largest id a row can have (PostgreSQL bigint); a bigger one is a 400, not a 500.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ScopedFilterBackend(DjangoFilterBackend):
    """Gives the pages' FilterSets the user they filter for (their manager choices)."""

    def get_filterset_kwargs(self, request, queryset, view) -> dict:
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and issubclass(
            filterset_class, page_filters.ScopedFilterSet
        ):
            kwargs["user"] = request.user
        return kwargs


class HireFilter(page_filters.HireFilterSet):
    # Pages are ordered by id under a cursor; a sort would break the cursor.
    sort = None
    imported = None


class AssignmentFilter(page_filters.AssignmentFilterSet):
    sort = None
    plan = IdFilter(field_name="plan_id", label="Plan id")
    hire = IdFilter(field_name="plan__hire_id", label="Hire id")


class PlanFilter(django_filters.FilterSet):
    hire = IdFilter(field_name="hire_id", label="Hire id")

    class Meta:
        model = TrainingPlan
        fields = []


class PlanGuidanceFilter(django_filters.FilterSet):
    plan = IdFilter(field_name="plan_id", label="Plan id")
    discussed = django_filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True, label="Discussed"
    )

    class Meta:
        model = PlanGuidance
        fields = []


class HeldCertificationFilter(django_filters.FilterSet):
    hire = IdFilter(field_name="hire_id", label="Hire id")

    class Meta:
        model = HeldCertification
        fields = []


class CheckInFilter(django_filters.FilterSet):
    hire = IdFilter(field_name="hire_id", label="Hire id")
    kind = django_filters.ChoiceFilter(choices=CheckInKind.choices)
    completed = django_filters.BooleanFilter(
        field_name="completed_at", lookup_expr="isnull", exclude=True, label="Completed"
    )

    class Meta:
        model = CheckIn
        fields = []


class CourseFilter(django_filters.FilterSet):
    provider = django_filters.CharFilter(lookup_expr="iexact", max_length=200)
    active = django_filters.BooleanFilter()

    class Meta:
        model = Course
        fields = []
