"""Forms of the catalog pages: courses, certifications, role profiles, templates, guidance.

Catalog writes are single-model writes, so these ModelForms save directly. A
ModelForm runs the model's full_clean, including its unique and check
constraints, so a rule the database enforces shows up as a form error instead
of an IntegrityError.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.forms import inlineformset_factory

from ..catalog import MILEAGE_SLUG
from ..models import (
    Certification,
    Competency,
    Course,
    Guidance,
    PlanTemplate,
    PlanTemplateItem,
    RoleExpectation,
    RoleProfile,
)
from . import CheckedCountsInlineFormSet, VersionedForm


class CourseForm(VersionedForm, forms.ModelForm):
    url = forms.URLField(required=False, max_length=200, assume_scheme="https", label="Website")

    class Meta:
        model = Course
        fields = [
            "title",
            "provider",
            "delivery",
            "duration_hours",
            "tuition",
            "currency",
            "certification",
            "url",
            "description",
            "competencies",
            "active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "competencies": forms.CheckboxSelectMultiple,
        }
        help_texts = {"active": "Inactive courses cannot be added to plans."}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        current = (
            self.instance.competencies.all() if self.instance.pk else Competency.objects.none()
        )
        self.fields["competencies"].queryset = (
            (Competency.objects.filter(active=True) | current)
            .distinct()
            .order_by("position", "name")
        )


class CertificationForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = Certification
        fields = ["name", "issuer", "abbreviation", "framework_bound", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class RoleProfileForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = RoleProfile
        fields = ["name", "archetype", "expectations", "active"]
        widgets = {"expectations": forms.Textarea(attrs={"rows": 8})}
        help_texts = {"active": "Inactive profiles are not offered for new hires."}


class PlanTemplateForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = PlanTemplate
        fields = ["name", "description", "suits_role_profiles", "active"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "suits_role_profiles": forms.CheckboxSelectMultiple,
        }
        help_texts = {"active": "Inactive templates are not offered for new plans."}


class PlanTemplateItemForm(forms.ModelForm):
    class Meta:
        model = PlanTemplateItem
        fields = ["course", "due_offset_days", "position"]
        labels = {"due_offset_days": "Due (days after start)", "position": "Order"}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.order_by("provider", "title")
        self.fields["course"].empty_label = "Choose a course"
        self.fields["position"].required = False

    def has_changed(self) -> bool:
        # An empty extra row stays empty even if its position box was cleared.
        if self.instance.pk is None and not any(
            self.data.get(self.add_prefix(name)) for name in ("course", "due_offset_days")
        ):
            return False
        return super().has_changed()

    def clean_position(self) -> int:
        return self.cleaned_data.get("position") or 0


class BasePlanTemplateItemFormSet(CheckedCountsInlineFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove from the template"


PlanTemplateItemFormSet = inlineformset_factory(
    PlanTemplate,
    PlanTemplateItem,
    form=PlanTemplateItemForm,
    formset=BasePlanTemplateItemFormSet,
    extra=3,
    can_delete=True,
)


class GuidanceForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = Guidance
        fields = ["slug", "title", "body", "rule", "position", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "body": "Write it in our own words. Plans keep the text as it read when attached.",
            "active": "Inactive guidance is no longer attached to plans (already attached "
            "copies stay). Guidance that every plan carries cannot be deactivated.",
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.slug == MILEAGE_SLUG:
            # Every plan carries this guidance (a database trigger finds it by its
            # rule), so its identity and rule are fixed; its words can change.
            for name in ("slug", "rule"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "Fixed: every plan carries this guidance."


class CompetencyForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = Competency
        fields = [
            "name",
            "slug",
            "description",
            "level_1",
            "level_2",
            "level_3",
            "level_4",
            "position",
            "active",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in ("description", "level_1", "level_2", "level_3", "level_4")
        }
        help_texts = {
            "slug": "A short stable name for exports and links, such as customer-discovery.",
            "level_1": "What level 1 looks like in the work, here.",
            "active": "Inactive competencies are not rated at new check-ins unless a role "
            "profile still expects them.",
        }


class RoleExpectationForm(forms.ModelForm):
    class Meta:
        model = RoleExpectation
        fields = ["competency", "expected_level", "note"]
        labels = {"expected_level": "Expected by day 90"}
        widgets = {"note": forms.Textarea(attrs={"rows": 1})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.competency_id if self.instance.pk else None
        self.fields["competency"].queryset = Competency.objects.filter(
            Q(active=True) | Q(pk=current)
        ).order_by("position", "name")
        self.fields["competency"].empty_label = "Choose a competency"

    def has_changed(self) -> bool:
        # An empty extra row stays empty even if the level select kept a value.
        if self.instance.pk is None and not self.data.get(self.add_prefix("competency")):
            return False
        return super().has_changed()


class BaseRoleExpectationFormSet(CheckedCountsInlineFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove from the profile"

    def clean(self) -> None:
        super().clean()
        seen = set()
        for form in self.forms:
            if form in self.deleted_forms or not getattr(form, "cleaned_data", None):
                continue
            competency = form.cleaned_data.get("competency")
            if competency is None:
                continue
            if competency.pk in seen:
                form.add_error("competency", f"“{competency}” is listed twice.")
            seen.add(competency.pk)


RoleExpectationFormSet = inlineformset_factory(
    RoleProfile,
    RoleExpectation,
    form=RoleExpectationForm,
    formset=BaseRoleExpectationFormSet,
    extra=2,
    can_delete=True,
)
