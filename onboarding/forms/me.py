"""Forms of the hire's own pages. They validate input; the writes go through services."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils import timezone

from ..models import Assignment, CourseFeedback
from ..services import HIRE_REPORTABLE_STATUSES
from .plans import DateInput


class InvitationPasswordForm(SetPasswordForm):
    """Choosing a password from an invitation link (Django's password validators)."""


class ProgressForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s, Assignment.Status(s).label) for s in HIRE_REPORTABLE_STATUSES],
        label="Where you are",
    )
    on = forms.DateField(
        required=False,
        widget=DateInput,
        label="Date",
        help_text="The session date when booked; the day you finished when completed.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def clean(self) -> dict:
        data = super().clean()
        status, on = data.get("status"), data.get("on")
        if status == Assignment.Status.SCHEDULED and on is None:
            self.add_error("on", "Give the date of the session.")
        if status == Assignment.Status.COMPLETED and on and on > timezone.localdate():
            self.add_error("on", "The completion date cannot be in the future.")
        if on and not datetime.date(1990, 1, 1) <= on <= datetime.date(2100, 12, 31):
            self.add_error("on", "Use a date between 1990 and 2100.")
        return data


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label="Certificate or proof of completion",
        help_text="PDF, PNG or JPEG, at most 10 MB.",
        allow_empty_file=True,  # the service says "The file is empty." in its own words
    )


class FeedbackForm(forms.ModelForm):
    class Meta:
        model = CourseFeedback
        fields = ["usefulness", "apply_here", "does_not_fit"]
        labels = {
            "usefulness": "How useful was it for your role here?",
            "apply_here": "What you will use here",
            "does_not_fit": "What does not fit how we work",
        }
        help_texts = {"usefulness": "1: not useful here · 5: very useful here."}
        widgets = {
            "apply_here": forms.Textarea(attrs={"rows": 2}),
            "does_not_fit": forms.Textarea(attrs={"rows": 2}),
        }


class NotePreferenceForm(forms.Form):
    receives_digest = forms.BooleanField(
        required=False, label="Email me a weekly note of what is due"
    )
