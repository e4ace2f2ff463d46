"""The check-in form: a 1-4 level and a note per competency, and a summary."""

from __future__ import annotations

from django import forms

from ..rules import LEVEL_CHOICES
from ..selectors import RatingRow


def level_field(row: RatingRow) -> str:
    return f"level_{row.competency.pk}"


def note_field(row: RatingRow) -> str:
    return f"note_{row.competency.pk}"


class LevelRowsMixin:
    """A 1-4 level (radio buttons, each with what it looks like) per competency row."""

    def add_level_fields(self, rows: list[RatingRow]) -> None:
        self.rows = rows
        for row in rows:
            self.fields[level_field(row)] = forms.TypedChoiceField(
                choices=[("", "Not rated"), *LEVEL_CHOICES],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                label=row.competency.name,
            )

    def levels(self) -> dict[int, int | None]:
        return {row.competency.pk: self.cleaned_data.get(level_field(row)) for row in self.rows}

    def bound_rows(self) -> list[dict]:
        """Each row with its level choices (and what each level looks like)."""
        rows = []
        for row in self.rows:
            level = self[level_field(row)]
            descriptors = dict(row.competency.descriptors)
            choices = [
                {
                    "radio": radio,
                    "level": radio.data["value"],
                    "text": descriptors.get(radio.data["value"], ""),
                }
                for radio in level
            ]
            extra = {"note": self[note_field(row)]} if note_field(row) in self.fields else {}
            rows.append({"row": row, "level": level, "choices": choices, **extra})
        return rows


class CheckInForm(LevelRowsMixin, forms.Form):
    """The manager's ratings: a level and a note per competency, and a summary."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    summary = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Summary",
        help_text="How the hire is doing against this role, in a few lines.",
    )

    def __init__(self, *args: object, rows: list[RatingRow], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.add_level_fields(rows)
        for row in rows:
            self.fields[note_field(row)] = forms.CharField(
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                label=f"Note on {row.competency.name}",
            )

    def ratings(self) -> dict[int, tuple[int | None, str]]:
        """competency id -> (level, note), the shape services.check_in_record takes."""
        return {
            row.competency.pk: (
                self.cleaned_data.get(level_field(row)),
                self.cleaned_data.get(note_field(row)) or "",
            )
            for row in self.rows
        }


class SelfRatingForm(LevelRowsMixin, forms.Form):
    """The hire's own level per competency of a check-in."""

    def __init__(self, *args: object, rows: list[RatingRow], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.add_level_fields(rows)
