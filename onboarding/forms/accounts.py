"""The profile page's form: the user's own settings."""

from django import forms

from ..models import ApiToken, User
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


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What will use it, so you can tell your tokens apart (e.g. HRIS sync).",
    )
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="Read only is enough for reports and syncs that only fetch data.",
    )
