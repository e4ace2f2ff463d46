"""Forms of the plan pages. They validate input; the writes go through services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from ..models import Assignment, Course, Guidance, PlanTemplate, TrainingPlan, User
from ..rules import manager_candidates
from ..services import plan_template_due_dates


class DateInput(forms.DateInput):
    """The browser's own date picker; ISO dates round-trip through it."""

    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form fields it names.

    Services speak in model field names; a name the form does not have becomes a
    form-wide error instead of crashing add_error.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields else None
        for item in errors:
            form.add_error(target, item)


class VersionMixin(forms.Form):
    """The version the user saw, so a concurrent change is refused, not overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


# --- plans ---------------------------------------------------------------------------------


def due_field_name(item_pk: int) -> str:
    return f"due_{item_pk}"


class PlanCreateForm(forms.Form):
    """Blank or from a template. With a template, one due date field per course.

    The template's rows are built when the form is made (from the template the
    request names), so the manager sees and edits every computed due date before
    anything is saved.
    """

    template = forms.ModelChoiceField(
        queryset=PlanTemplate.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label="Blank plan — add courses yourself",
        help_text="A template fills the plan with its courses; you can change every due date.",
    )
    title = forms.CharField(
        max_length=200,
        required=False,
        help_text="Leave empty to use the template's name (or “Training plan”).",
    )
    target_date = forms.DateField(
        required=False,
        widget=DateInput,
        help_text="Leave empty to use the last due date of the plan's courses.",
    )

    def __init__(
        self,
        *args: object,
        hire,
        template: PlanTemplate | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.hire = hire
        self.chosen_template = template
        self.rows: list[dict] = []
        if template is None:
            return
        for item, due in plan_template_due_dates(template=template, start_date=hire.start_date):
            name = due_field_name(item.pk)
            self.fields[name] = forms.DateField(
                label=f"Due date for {item.course.title}",
                initial=due,
                widget=DateInput(attrs={"class": "form-control form-control-sm"}),
                error_messages={"required": "Give a due date for this course."},
            )
            self.rows.append({"item": item, "computed": due, "name": name})

    def bound_rows(self) -> list[dict]:
        """Each template row with its bound due date field, for the template."""
        return [{**row, "field": self[row["name"]]} for row in self.rows]

    def due_dates(self) -> dict[int, datetime.date]:
        return {row["item"].pk: self.cleaned_data[row["name"]] for row in self.rows}


class PlanEditForm(VersionMixin):
    title = forms.CharField(max_length=200)
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        help_text="Who looks after this plan day to day.",
    )
    target_date = forms.DateField(required=False, widget=DateInput)

    def __init__(self, *args: object, plan: TrainingPlan, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = manager_candidates(user, current=plan.owner)


# --- assignments ---------------------------------------------------------------------------


class AssignmentFieldsForm(forms.Form):
    """The fields a manager edits on an assignment (not its status)."""

    due_date = forms.DateField(widget=DateInput)
    scheduled_for = forms.DateField(
        required=False, widget=DateInput, help_text="The session date, if booked."
    )
    tuition_cost = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
        label="Tuition",
        help_text="Leave empty when the price is not known.",
    )
    paid_by = forms.ChoiceField(choices=Assignment.PaidBy.choices, label="Paid by")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AssignmentAddForm(AssignmentFieldsForm):
    course = forms.ModelChoiceField(queryset=Course.objects.none())
    paid_by = forms.ChoiceField(
        choices=[("", "As the catalog says"), *Assignment.PaidBy.choices],
        required=False,
        label="Paid by",
    )
    field_order = ["course", "due_date", "scheduled_for", "tuition_cost", "paid_by", "notes"]

    def __init__(self, *args: object, plan: TrainingPlan, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # The same field as on the edit form; empty means something else when adding.
        self.fields["tuition_cost"].help_text = "Leave empty to use the catalog price."
        self.fields["course"].queryset = (
            Course.objects.filter(active=True)
            .exclude(assignments__plan=plan)
            .order_by("provider", "title")
        )
        self.fields["course"].empty_label = "Choose a course"


class AssignmentEditForm(VersionMixin, AssignmentFieldsForm):
    pass


class AssignmentStatusForm(VersionMixin):
    status = forms.ChoiceField(choices=Assignment.Status.choices)
    completed_on = forms.DateField(
        required=False, widget=DateInput, help_text="Today when left empty."
    )
    certification_earned_on = forms.DateField(
        required=False, widget=DateInput, label="Certification earned on"
    )
    certification_expires_on = forms.DateField(
        required=False, widget=DateInput, label="Certification expires on"
    )
    reason = forms.CharField(required=False, max_length=500, label="Reason for waiving", strip=True)

    def clean_completed_on(self) -> datetime.date | None:
        value = self.cleaned_data.get("completed_on")
        if value and value > timezone.localdate():
            raise ValidationError("The completion date cannot be in the future.")
        return value

    def clean_certification_earned_on(self) -> datetime.date | None:
        value = self.cleaned_data.get("certification_earned_on")
        if value and value > timezone.localdate():
            raise ValidationError("The certification date cannot be in the future.")
        return value

    def clean(self) -> dict:
        data = super().clean()
        becomes_waived = data.get("status") == Assignment.Status.WAIVED
        for field, message in status_change_errors(data, becomes_waived=becomes_waived):
            self.add_error(field, message)
        return data


def status_change_errors(data: dict, *, becomes_waived: bool) -> list[tuple[str, str]]:
    """What is wrong with a status change before the service sees it (dashboard and admin).

    The service (assignment_set_status) enforces the same; checking here puts the
    message next to the field.
    """
    errors = []
    if becomes_waived and not (data.get("reason") or "").strip():
        errors.append(("reason", "Say why the course is waived."))
    earned, expires = data.get("certification_earned_on"), data.get("certification_expires_on")
    if expires and not earned:
        errors.append(
            ("certification_expires_on", "Give the date the certification was earned too.")
        )
    elif expires and earned and expires < earned:
        errors.append(
            ("certification_expires_on", "A certification cannot expire before it was earned.")
        )
    return errors


# --- guidance ------------------------------------------------------------------------------


class PlanGuidanceNoteForm(forms.Form):
    manager_note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Your note for this hire",
        help_text="How this guidance applies to this hire and this role.",
    )
    # The version of the guidance the page showed; missing on pages from before versions.
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class GuidanceAttachForm(forms.Form):
    guidance = forms.ModelChoiceField(
        queryset=Guidance.objects.none(), label="Guidance from the library"
    )

    def __init__(self, *args: object, plan: TrainingPlan, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["guidance"].queryset = manual_guidance_for(plan)
        self.fields["guidance"].empty_label = "Choose guidance to attach"


def manual_guidance_for(plan: TrainingPlan) -> QuerySet[Guidance]:
    """Library guidance a manager may attach by hand: active, manual, not yet on the plan."""
    return (
        Guidance.objects.filter(active=True, rule=Guidance.Rule.MANUAL)
        .exclude(attachments__plan=plan)
        .order_by("position", "title")
    )
