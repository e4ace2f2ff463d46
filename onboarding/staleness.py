"""Telling someone what changed when their save is refused as stale.

Every edit form (the dashboard's, htmx rows' and the admin's) carries the
version the person saw. A service (or the admin form) locks the row, finds a
newer version and refuses; these functions turn the change history into words:
what someone else changed since that version.
"""

from __future__ import annotations

import datetime

from django.db.models import Model
from django.utils.formats import date_format

IGNORED = ("version", "updated_at", "created_at")


def value_text(model: type[Model], name: str, value: object) -> str:
    field = model._meta.get_field(name)
    if value is None or value == "":
        return "empty"
    if field.is_relation:
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related else "removed"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime.date):
        return date_format(value, "j M Y")
    return str(value)


def changes_since(current: Model, expected_version: int | None) -> list[str]:
    """What others changed after the version the user saw, from the change history."""
    model = type(current)
    if not hasattr(current, "history"):
        return []  # the catalog keeps no history: callers fall back to the differing fields
    history = current.history.order_by("-history_date", "-history_id")
    seen = history.filter(version=expected_version).first() if expected_version else None
    newest = history.first()
    if seen is None or newest is None or seen.pk == newest.pk:
        return []
    delta = newest.diff_against(seen, excluded_fields=list(IGNORED))
    return [
        f"{model._meta.get_field(change.field).verbose_name}: "
        f"{value_text(model, change.field, change.old)} → "
        f"{value_text(model, change.field, change.new)}"
        for change in delta.changes
    ]


def stale_message(
    current: Model,
    expected_version: int | None,
    noun: str,
    changed: dict[str, tuple[object, object]] | None = None,
) -> str:
    """ "Not saved: someone else changed this <noun> ... (what changed)"."""
    changes = changes_since(current, expected_version)
    if not changes and changed:
        changes = [
            f"{type(current)._meta.get_field(name).verbose_name}: now "
            f"{value_text(type(current), name, theirs)}"
            for name, (_yours, theirs) in changed.items()
        ]
    what = "; ".join(changes) if changes else "the record"
    return (
        f"Not saved: someone else changed this {noun} after you opened the page ({what}). "
        "Review the values and save again if your change still applies."
    )
