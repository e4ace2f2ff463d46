"""Forms of the catalog pages: courses, certifications, role profiles, templates, guidance.

Catalog writes are single-model writes, so these ModelForms save directly. A
ModelForm runs the model's full_clean, including its unique and check
constraints, so a rule the database enforces shows up as a form error instead
of an IntegrityError.
"""

from __future__ import annotations

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory

from ..catalog import MILEAGE_SLUG
from ..models import (
    Certification,
    Course,
    Guidance,
    PlanTemplate,
    PlanTemplateItem,
    RoleProfile,
)


class CourseForm(forms.ModelForm):
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
            "active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"active": "Inactive courses cannot be added to plans."}


class CertificationForm(forms.ModelForm):
    class Meta:
        model = Certification
        fields = ["name", "issuer", "abbreviation", "framework_bound", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class RoleProfileForm(forms.ModelForm):
    class Meta:
        model = RoleProfile
        fields = ["name", "archetype", "expectations", "active"]
        widgets = {"expectations": forms.Textarea(attrs={"rows": 8})}
        help_texts = {"active": "Inactive profiles are not offered for new hires."}


class PlanTemplateForm(forms.ModelForm):
    class Meta:
        model = PlanTemplate
        fields = ["name", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
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


class BasePlanTemplateItemFormSet(BaseInlineFormSet):
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


class GuidanceForm(forms.ModelForm):
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
