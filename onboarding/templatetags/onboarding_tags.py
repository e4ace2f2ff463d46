"""Small template helpers for the dashboard: health badges, progress bars, sortable headers.

They return ready HTML from Python instead of `{% include %}`-ing a partial per
row, because a 50-row table would otherwise pay for 50 template renders.
"""

from __future__ import annotations

import datetime
import re

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .. import expiry
from ..rules import HEALTH_LABELS, HEALTH_RULES, Health

register = template.Library()

# Bootstrap's text-bg-* pairs keep WCAG AA contrast for the badge text.
HEALTH_CLASSES = {
    Health.OVERDUE: "text-bg-danger",
    Health.AT_RISK: "text-bg-warning",
    Health.ON_TRACK: "text-bg-success",
    Health.COMPLETE: "text-bg-primary",
    Health.NO_PLAN: "text-bg-secondary",
}


@register.filter
def health_label(health: str) -> str:
    return HEALTH_LABELS.get(health, health or "")


@register.filter
def health_rule(health: str) -> str:
    return HEALTH_RULES.get(health, "")


@register.simple_tag
def health_badge(health: str) -> str:
    """A coloured badge whose tooltip (title) is the rule behind the health."""
    return format_html(
        '<span class="badge health-badge {}" title="{}">{}</span>',
        HEALTH_CLASSES.get(health, "text-bg-secondary"),
        HEALTH_RULES.get(health, ""),
        HEALTH_LABELS.get(health, health or "—"),
    )


@register.simple_tag
def health_legend() -> list[tuple[str, str, str]]:
    """(key, label, rule) for every health, in the order of the filter."""
    return [(key, label, HEALTH_RULES[key]) for key, label in Health.choices]


def _step(percent: int | None) -> int:
    # The bar's width comes from a CSS class (no inline styles under our CSP),
    # in steps of 5 percent; the exact number is in the text and aria-valuenow.
    value = max(0, min(100, int(percent or 0)))
    return int(round(value / 5.0) * 5)


@register.simple_tag
def progress_bar(percent: int | None, label: str = "Progress") -> str:
    value = max(0, min(100, int(percent or 0)))
    return format_html(
        '<div class="progress-wrap">'
        '<div class="progress" role="progressbar" aria-label="{}" aria-valuenow="{}" '
        'aria-valuemin="0" aria-valuemax="100">'
        '<div class="progress-bar pct-{}"></div></div>'
        '<span class="progress-text">{}%</span></div>',
        label,
        value,
        _step(value),
        value,
    )


# Shown on a sortable header that is not the current sort, so sortable columns look
# different from plain ones.
SORTABLE_ARROW = "↕"


@register.simple_tag(takes_context=True)
def sort_th(context, key: str, label: str, extra_class: str = "") -> str:
    """A table header that sorts by `key` (the OrderingFilter's `sort` parameter).

    A second click reverses the order; aria-sort tells screen readers the state.
    """
    request = context["request"]
    current = request.GET.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    if current == key:
        params["sort"] = f"-{key}"
        state, arrow = "ascending", "▲"
    elif current == f"-{key}":
        params["sort"] = key
        state, arrow = "descending", "▼"
    else:
        params["sort"] = key
        state, arrow = "", ""
    if state:
        return format_html(
            '<th scope="col" class="{}" aria-sort="{}"><a class="sort-link" href="?{}">{}'
            '<span class="sort-arrow" aria-hidden="true"> {}</span></a></th>',
            extra_class,
            state,
            params.urlencode(),
            label,
            arrow,
        )
    return format_html(
        '<th scope="col" class="{}"><a class="sort-link" href="?{}">{}'
        '<span class="sort-arrow sort-arrow-idle" aria-hidden="true"> {}</span></a></th>',
        extra_class,
        params.urlencode(),
        label,
        SORTABLE_ARROW,
    )


@register.filter
def expiry_text(expires_on: datetime.date | None, today: datetime.date | None = None) -> str:
    """'expired', 'expires in N days' (within 90 days), or '' for later or never."""
    return expiry.expiry_label(expires_on, today)


@register.filter
def days_overdue(due_date: datetime.date | None, today: datetime.date | None = None) -> str:
    """'N days overdue' for a date-only deadline: whole days, so it does not change by the
    hour as `timesince` (which counts from midnight) did."""
    if due_date is None:
        return ""
    days = ((today or timezone.localdate()) - due_date).days
    return f"{days} day{'s' if days != 1 else ''} overdue"


_BULLET = re.compile(r"^[-*•]\s+(?P<item>.*)$")


@register.filter
def simple_text(text: str | None) -> SafeString:
    """Plain text written by people as HTML: blank lines separate paragraphs, lines that
    start with "- ", "* " or "• " are a bullet list. Everything else is escaped text: no
    markup gets through, whatever the text holds."""
    blocks: list[SafeString] = []
    lines: list[str] = []
    items: list[str] = []

    def close() -> None:
        if lines:
            blocks.append(
                format_html(
                    "<p>{}{}</p>",
                    format_html_join("", "{}<br>", ((line,) for line in lines[:-1])),
                    lines[-1],
                )
            )
            lines.clear()
        if items:
            blocks.append(
                format_html(
                    "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items))
                )
            )
            items.clear()

    for raw in str(text or "").splitlines():
        line = raw.strip()
        bullet = _BULLET.match(line)
        if not line or (bullet and lines) or (not bullet and items):
            close()
        if bullet:
            items.append(bullet["item"])
        elif line:
            lines.append(line)
    close()
    return format_html_join("", "{}", ((block,) for block in blocks))


@register.filter
def without_page(querydict) -> str:
    """The query string minus `page`, for links that keep the filters (e.g. CSV export)."""
    params = querydict.copy()
    params.pop("page", None)
    return params.urlencode()


@register.filter
def get_item(mapping: dict, key: object) -> object:
    """mapping[key], or None: for tables keyed by a value of the row."""
    return mapping.get(key) if mapping else None


@register.filter
def signed(value: float | None, places: int = 2) -> str:
    """A change with its sign: +1.40, -0.25, 0.00; a dash when there is none."""
    if value is None:
        return "—"
    text = f"{value:+.{places}f}"
    return text[1:] if text[1:] == f"{0:.{places}f}" else text
