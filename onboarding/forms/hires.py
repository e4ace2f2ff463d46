"""The hire form used by the create and edit pages.

Validation runs here (field rules, the model's clean and its constraints, such as
the case-insensitive unique email); the write itself goes through services.
"""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row
from django import forms
from django.db.models import Q

from ..models import NewHire, PlanTemplate, RoleProfile, User
from ..rules import can_view_all, manager_candidates
from ..services import HIRE_FIELDS


class HireForm(forms.ModelForm):
    """Create or edit a hire. Only people-ops choose the hiring manager."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = NewHire
        fields = HIRE_FIELDS
        labels = {
            "full_name": "Full name",
            "new_to_product_management": "New to product management",
            "previous_role": "Previous role",
        }
        help_texts = {
            "email": "Work email. Each hire needs their own address.",
            "role_profile": "Which flavour of the product manager role this hire fills here.",
            "new_to_product_management": "This is their first product management role; "
            "their plans get the guidance for people new to the job.",
        }
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        instance_profile = self.instance.role_profile_id if self.instance.pk else None
        self.fields["role_profile"].queryset = RoleProfile.objects.filter(
            Q(active=True) | Q(pk=instance_profile)
        )
        self.fields["role_profile"].empty_label = "Not decided yet"
        if can_view_all(user):
            current = self.instance.hiring_manager if self.instance.pk else None
            self.fields["hiring_manager"].queryset = manager_candidates(user, current)
            if not self.instance.pk:
                self.fields["hiring_manager"].initial = user.pk
        else:
            # A manager's hires are theirs: the field is not even offered.
            del self.fields["hiring_manager"]
        if self.instance.pk and not self.is_bound:
            self.fields["expected_version"].initial = self.instance.version

        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Who",
                Row(
                    Column("full_name", css_class="col-md-6"), Column("email", css_class="col-md-6")
                ),
                Row(
                    Column("title", css_class="col-md-6"),
                    Column("previous_role", css_class="col-md-6"),
                ),
                "new_to_product_management",
            ),
            Fieldset(
                "Role",
                Row(
                    Column("role_profile", css_class="col-md-6"),
                    Column("start_date", css_class="col-md-6"),
                ),
                *(["hiring_manager"] if "hiring_manager" in self.fields else []),
            ),
            Field("notes"),
            "expected_version",
        )

    def changes(self) -> dict[str, object]:
        """The service arguments: every editable field on the form."""
        return {name: self.cleaned_data[name] for name in HIRE_FIELDS if name in self.fields}


class HireBulkForm(forms.Form):
    """What to do with the hires ticked in the hires list (the hires come separately,
    checked against what the user may see)."""

    action = forms.ChoiceField(
        label="With the selected hires",
        choices=[
            ("plan", "Give each a plan from a template"),
            ("archive", "Archive them"),
            ("manager", "Change their hiring manager"),
        ],
    )
    template = forms.ModelChoiceField(
        queryset=PlanTemplate.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label="Choose a template",
        label="Template",
    )
    hiring_manager = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Choose a manager"
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if can_view_all(user):
            self.fields["hiring_manager"].queryset = manager_candidates(user)
        else:
            # Only people-ops hand hires to someone else.
            self.fields["action"].choices = self.fields["action"].choices[:2]
            del self.fields["hiring_manager"]

    def clean(self) -> dict:
        data = super().clean()
        action = data.get("action")
        if action == "plan" and not data.get("template"):
            self.add_error("template", "Choose the template the plans start from.")
        if action == "manager" and not data.get("hiring_manager"):
            self.add_error("hiring_manager", "Choose the new hiring manager.")
        return data
