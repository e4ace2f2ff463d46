"""Forms of the cohort import: the upload, the confirmation, and one CSV row."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from ..models import PlanTemplate

YES = {"yes", "y", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}


class HireRowForm(forms.Form):
    """Field rules for one row of the file (the cells arrive as text)."""

    full_name = forms.CharField(max_length=200)
    email = forms.EmailField(max_length=254)
    title = forms.CharField(max_length=200, required=False)
    role_profile = forms.CharField(max_length=120, required=False)
    start_date = forms.DateField(
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter the date as YYYY-MM-DD, for example 2025-09-01."},
    )
    new_to_product_management = forms.CharField(required=False)
    previous_role = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(required=False, strip=False)
    hiring_manager = forms.CharField(max_length=150, required=False)

    def clean_new_to_product_management(self) -> bool:
        value = self.cleaned_data["new_to_product_management"].strip().lower()
        if value in YES:
            return True
        if value in NO:
            return False
        raise ValidationError("Write yes or no.")


class HireImportForm(forms.Form):
    """Step 1: the file, and optionally a plan template for every imported hire."""

    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 (with or without BOM), comma or semicolon separated, "
        "at most 2,000 hires and 5 MB.",
    )
    template = forms.ModelChoiceField(
        queryset=PlanTemplate.objects.filter(active=True),
        required=False,
        empty_label="No plan: add plans later",
        label="Create each hire's plan from",
    )

    def __init__(self, *args, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{self.max_bytes // 1024 // 1024} MB. Split it into smaller files."
            )
        return upload.read(self.max_bytes + 1)


class HireImportConfirmForm(forms.Form):
    """Step 2: confirms the preview the user saw (the file itself stays on the server)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
