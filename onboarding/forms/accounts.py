"""The profile page's form: the user's own settings."""

from django import forms

from ..models import User
from . import VersionedForm


class DigestPreferenceForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = User
        fields = ["receives_digest"]
        labels = {"receives_digest": "Email me a daily reminder digest"}
        help_texts = {
            "receives_digest": "Overdue and upcoming training for your hires, guidance not yet "
            "discussed and certifications about to expire. Sent only on days with something "
            "to report."
        }
