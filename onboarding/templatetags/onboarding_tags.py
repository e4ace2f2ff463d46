"""Small template helpers for the dashboard: health badges, progress bars, sortable headers.

They return ready HTML from Python instead of `{% include %}`-ing a partial per
row, because a 50-row table would otherwise pay for 50 template renders.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Iterable

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

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


def short_date(day: datetime.date) -> str:
    """`day` as the template filter `|date:"j M Y"` writes it, without its format parser."""
    return f"{day.day} {MONTHS_3[day.month].title()} {day.year}"


_NO_VALUE = '<span class="text-body-secondary">{}</span>'


@register.simple_tag
def hire_rows(hires: Iterable, show_manager: bool, selectable: object = False) -> SafeString:
    """The <tr> rows of the hires table (selectors.HireRow values), in one pass of Python.

    A template loop paid for a variable lookup, a |date and a {% url %} per cell: most
    of the hires list's time. Every value is escaped here. `selectable` adds the
    checkbox of the bulk-action form (id "hire-bulk") to each row.
    """
    marker = 2_147_483_647
    before, after = reverse("onboarding:hire_detail", args=[marker]).split(str(marker))
    esc = html.escape
    rows = []
    for hire in hires:
        name = esc(hire.full_name)
        archived = (
            '<span class="badge text-bg-light border ms-1">Archived</span>'
            if hire.archived_at
            else ""
        )
        manager = (
            f'<td class="d-none d-md-table-cell">{esc(hire.hiring_manager)}</td>'
            if show_manager
            else ""
        )
        if hire.plan_count:
            progress = progress_bar(hire.percent_complete, f"Progress of {hire.full_name}")
        else:
            progress = _NO_VALUE.format("—")
        due = hire.next_due
        if due:
            overdue = due.is_overdue
            tone = "text-overdue fw-semibold" if overdue else "text-body-secondary"
            next_due = (
                f'{esc(due.course_title)}<div class="small {tone}">'
                f"due {short_date(due.due_date)}{' · overdue' if overdue else ''}</div>"
            )
        else:
            next_due = _NO_VALUE.format("Nothing open" if hire.plan_count else "No plan yet")
        select = (
            '<td class="col-select"><input class="form-check-input" type="checkbox" '
            f'name="hires" value="{hire.pk}" form="hire-bulk" aria-label="Select {name}"></td>'
            if selectable
            else ""
        )
        rows.append(
            f"<tr>{select}"
            '<th scope="row" class="fw-normal">'
            f'<a class="fw-semibold" href="{before}{hire.pk}{after}">{name}</a>{archived}'
            f'<div class="small text-body-secondary">{esc(hire.title)}</div></th>'
            f'<td class="text-nowrap d-none d-sm-table-cell">{short_date(hire.start_date)}</td>'
            f'<td class="d-none d-lg-table-cell">{esc(hire.role_profile or "—")}</td>'
            f"{manager}<td>{progress}</td>"
            f'<td class="d-none d-sm-table-cell">{next_due}</td>'
            f"<td>{health_badge(hire.health)}</td></tr>\n"
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped
