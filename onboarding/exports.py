"""CSV exports: hires, assignments and tuition — streamed, formula-safe, Excel-friendly.

Every export is built from the same three pieces, whoever asks for it (the
dashboard's "Export CSV" buttons, the admin's "Export selected as CSV" action,
`manage.py export_csv`):

1. the rows: selectors.export_rows(), the list's own FilterSet over
   `visible_to(user)` (so the file holds exactly the rows the page shows), then
   one `values_list()` query of the columns defined here, whose per-hire
   figures are computed in SQL with the definitions in rules.py;
2. `safe_cell()`: the one function that neutralises spreadsheet formulas;
3. `iter_csv()`: UTF-8 with a byte-order mark, a header row, ISO dates, rows
   written through csv.writer in batches of BATCH_ROWS — one query, flat memory.

Column sets (stable: scripts and the cohort import rely on these names) are
listed with their meaning in COLUMN_HELP and shown under each list page:
hires.csv one row per hire (the first nine columns are the cohort import's, so
the file imports as it is), assignments.csv one row per assignment (the flat
join), tuition.csv spend by quarter, manager, payer and currency.

Tuition rule: an assignment's spend is its tuition_cost and falls in the
calendar quarter of its due_date (TuitionFilterSet's `year` refers to the same
date). Waived assignments are not spent and are left out; currencies are never
summed together, each has its own rows.

Values: text as stored (status, paid_by and health are their codes, such as
"in_progress"), dates ISO 8601, money with two decimals and a separate currency
column, yes/no for flags, an empty cell for nothing.

Public API
    safe_cell(value)                  the formula guard, for any CSV writer
    restore_cell(text)                its inverse, for reading our own files back (import)
    columns(name), header(name)       an export's columns (selectors.rows_of queries them)
    iter_csv(name, rows)              the file as an iterator of bytes
    stream_response(name, rows)       StreamingHttpResponse named <name>-YYYY-MM-DD.csv
    write_csv(name, rows, fileobj)    the same bytes into a binary file (export_csv)
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    TruncDate,
)
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from .models import HeldCertification, PlanGuidance
from .rules import overdue_q

BATCH_ROWS = 2000
BOM = "\ufeff"
CENT = Decimal("0.01")

# OWASP "CSV injection": a cell starting with one of these is read as a formula
# (or a formula continued on a new line) by Excel, LibreOffice and Sheets.
FORMULA_STARTS = frozenset("=+-@\t\r\n")


def safe_cell(value: Any) -> Any:
    """A cell as it goes into csv.writer: text is formula-safe, numbers and dates stay.

    Text starting with = + - @ tab, CR or LF, also after leading whitespace,
    gets a leading apostrophe, which
    spreadsheets show as plain text. Numbers (int, float, Decimal) are returned
    unchanged so they stay numbers; dates become ISO 8601; None an empty cell;
    booleans yes/no. Anything else is treated as text.
    """
    if type(value) is str:  # the common case first: most cells are plain text
        return "'" + value if _reads_as_formula(value) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime.date):  # datetime is a date too
        return value.isoformat()
    text = str(value)
    return "'" + text if _reads_as_formula(text) else text


def _reads_as_formula(text: str) -> bool:
    # LibreOffice's "trim spaces" import option (and Excel on some paths) drops
    # leading whitespace first, so " =1+1" is a formula too.
    return text[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS


# Cell types that csv.writer already writes exactly as safe_cell() would: numbers as
# they are, a date as str(date) == date.isoformat(), None as an empty cell.
# (Not bool, not datetime: safe_cell() writes those differently.)
_AS_IS = frozenset({int, float, Decimal, datetime.date, type(None)})
_TEXT = frozenset({str, type(None)})
# A formula start right after a NUL, in strings joined with (and led by) NUL: a cell
# starting with one. A NUL inside a string can only raise a false alarm, which
# costs time, never safety. (A literal first character lets `re` skip ahead fast.)
_ANY_FORMULA_START = re.compile("\x00[" + re.escape("".join(sorted(FORMULA_STARTS))) + "]")


def safe_rows(rows: Sequence[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    """safe_cell() over every cell of a batch of rows, written column by column.

    The result is what `[safe_cell(v) for v in row]` gives for each row, as
    csv.writer writes it; but a column in which no cell needs changing (nearly
    all of them: no text starting with a formula character, or only numbers and
    dates) is checked in one pass in C and left alone, instead of costing one
    Python call per cell. That is most of the export's speed.
    """
    if not rows or len({len(row) for row in rows}) != 1:
        return [[safe_cell(value) for value in row] for row in rows]
    columns = list(zip(*rows, strict=True))
    changed = False
    for index, column in enumerate(columns):
        kinds = set(map(type, column))
        if kinds <= _AS_IS:
            continue
        if kinds <= _TEXT:
            joined = "\x00" + "\x00".join(filter(None, column))
            if not _ANY_FORMULA_START.search(joined):
                continue
        columns[index] = list(map(safe_cell, column))
        changed = True
    return zip(*columns, strict=True) if changed else rows


def restore_cell(text: str) -> str:
    """The inverse of safe_cell() for text read back from one of our files (import)."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


class JoinedLabels(Subquery):
    """The single `label` column of a correlated queryset, sorted and joined with "; ".

    One scalar subquery per row inside the export's single query, so the export
    never runs a query per hire. SQLite (before 3.44) has no ORDER BY inside
    GROUP_CONCAT: it concatenates in the order of an ordered, LIMITed derived
    table (the LIMIT keeps Django from dropping the ORDER BY); PostgreSQL sorts
    inside STRING_AGG.
    """

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        inner, params = super().as_sql(compiler, connection, **extra_context)
        # `inner` is SQL compiled by Django with its values in `params`: nothing from users.
        if connection.vendor == "postgresql":
            sql = f"(SELECT STRING_AGG(label, '; ' ORDER BY label) FROM {inner} AS joined)"  # noqa: S608
        else:
            sql = f"(SELECT GROUP_CONCAT(label, '; ') FROM {inner} AS joined)"  # noqa: S608
        return sql, params


def certifications_held() -> JoinedLabels:
    labels = (
        HeldCertification.objects.filter(hire=OuterRef("pk"))
        .annotate(label=F("certification__name"))
        .order_by("label")
        .values("label")
    )
    return JoinedLabels(labels[:1000])


class Cents(Coalesce):
    """A money sum, 0.00 when empty, always with two decimals.

    SQLite hands back sums as floats or integers and Django only quantizes plain
    columns, so "1500" would come out where PostgreSQL says "1500.00".
    """

    output_field = DecimalField(max_digits=14, decimal_places=2)

    def __init__(self, expression: Any):
        super().__init__(expression, Value(Decimal("0.00")))

    def get_db_converters(self, connection):
        return [*super().get_db_converters(connection), self._quantize]

    @staticmethod
    def _quantize(value, expression, connection):
        return None if value is None else Decimal(value).quantize(CENT)


class IsoDate(Func):
    """A date as ISO 8601 text, written by the database: YYYY-MM-DD.

    An export only prints its dates, so turning each into a Python date (and
    back into text) would be wasted work on every row. SQLite stores dates as ISO
    text already; PostgreSQL formats them explicitly, whatever its DateStyle.
    """

    output_field = CharField()
    template = "CAST(%(expressions)s AS TEXT)"

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="TO_CHAR(%(expressions)s, 'YYYY-MM-DD')", **extra_context
        )


def yes_no(condition: Q | Exists) -> Case:
    return Case(When(condition, then=Value("yes")), default=Value("no"), output_field=CharField())


def _hire_columns() -> list[tuple[str, Any]]:
    # Built per call: overdue_q() reads today's date.
    return [
        ("full_name", "full_name"),
        ("email", "email"),
        ("title", "title"),
        ("role_profile", "role_profile__name"),
        ("hiring_manager", "hiring_manager__username"),
        ("start_date", IsoDate("start_date")),
        ("new_to_product_management", yes_no(Q(new_to_product_management=True))),
        ("previous_role", "previous_role"),
        ("notes", "notes"),
        ("plan_count", "plan_count"),
        ("assignments_total", "total_count"),
        ("assignments_completed", "completed_count"),
        ("assignments_overdue", "overdue_count"),
        ("percent_complete", "percent_complete"),
        ("health", "health"),
        ("certifications_held", certifications_held()),
        ("archived_on", IsoDate(TruncDate("archived_at"))),
    ]


def _assignment_columns() -> list[tuple[str, Any]]:
    # NOT EXISTS, not NOT IN: PostgreSQL turns it into one hash anti-join, while a
    # NOT IN list larger than work_mem is re-scanned for every row (an export of 1M
    # assignments never finished). SQLite probes the plan_id index per row.
    undiscussed = PlanGuidance.objects.filter(plan=OuterRef("plan_id"), acknowledged_at=None)
    return [
        ("hire", "plan__hire__full_name"),
        ("email", "plan__hire__email"),
        ("hiring_manager", "plan__hire__hiring_manager__username"),
        ("role_profile", "plan__hire__role_profile__name"),
        ("plan", "plan__title"),
        ("course", "course__title"),
        ("provider", "course__provider"),
        ("certification", "course__certification__name"),
        ("status", "status"),
        ("due_date", IsoDate("due_date")),
        ("scheduled_for", IsoDate("scheduled_for")),
        ("completed_on", IsoDate("completed_on")),
        ("overdue", yes_no(overdue_q())),
        ("tuition_cost", "tuition_cost"),
        ("currency", "course__currency"),
        ("paid_by", "paid_by"),
        ("certification_earned_on", IsoDate("certification_earned_on")),
        ("guidance_discussed", yes_no(~Exists(undiscussed))),
    ]


TUITION_HEADER = [
    "quarter",
    "hiring_manager",
    "paid_by",
    "currency",
    "assignments",
    "tuition_total",
]
# ?sort= on the tuition page and export; each ends with the full default order so
# rows never swap places between two downloads.
TUITION_DEFAULT_ORDER = ("quarter", "hiring_manager", "paid_by", "currency")
TUITION_SORTS = {
    "quarter": ("quarter",),
    "-quarter": ("-quarter",),
    "manager": ("hiring_manager",),
    "-manager": ("-hiring_manager",),
    "payer": ("paid_by",),
    "-payer": ("-paid_by",),
    "total": ("tuition_total",),
    "-total": ("-tuition_total",),
}


# The column sets, documented for people (shown under the list pages' "Export CSV").
COLUMN_HELP: dict[str, dict[str, str]] = {
    "hires": {
        "full_name": "The hire's full name.",
        "email": "Email address.",
        "title": "Job title.",
        "role_profile": "Name of the role profile, empty if none.",
        "hiring_manager": "Username of the hiring manager.",
        "start_date": "Start date, YYYY-MM-DD.",
        "new_to_product_management": "yes or no.",
        "previous_role": "Previous role.",
        "notes": "Notes.",
        "plan_count": "Number of training plans.",
        "assignments_total": "Assignments in all plans.",
        "assignments_completed": "Completed assignments.",
        "assignments_overdue": "Assignments past their due date and not completed or waived.",
        "percent_complete": "Completed share of the assignments that count (waived do not), 0-100.",
        "health": "overdue, at_risk, on_track, complete or no_plan (rules as on the dashboard).",
        "certifications_held": "Certification names, alphabetical, separated by '; '.",
        "archived_on": "Date the hire was archived, empty while active.",
    },
    "assignments": {
        "hire": "The hire's full name.",
        "email": "The hire's email address.",
        "hiring_manager": "Username of the hiring manager.",
        "role_profile": "The hire's role profile.",
        "plan": "Title of the training plan.",
        "course": "Course title.",
        "provider": "Course provider.",
        "certification": "Certification the course leads to, if any.",
        "status": "assigned, scheduled, in_progress, completed or waived.",
        "due_date": "Due date, YYYY-MM-DD.",
        "scheduled_for": "Session date, if booked.",
        "completed_on": "Completion date, if completed.",
        "overdue": "yes when past due and neither completed nor waived.",
        "tuition_cost": "Tuition, two decimals; empty if unknown.",
        "currency": "ISO 4217 code of the tuition.",
        "paid_by": "employer, hire or free.",
        "certification_earned_on": "Date the certification was earned, if recorded.",
        "guidance_discussed": "yes when every guidance note on the plan was discussed.",
    },
    "outcomes": {
        "section": "course, provider, certification, or certification_lens.",
        "name": "The course (title and provider), provider or certification.",
        "competencies": "For a course: the competencies it targets, separated by '; '.",
        "completed": "Hires who completed it (any course of a provider or certification).",
        "took_it": "Of those, hires rated at both the baseline and day 90 on its competencies "
        "(lens: hires who held the certification when they started).",
        "took_it_change": "Their average change in manager rating, day 90 minus baseline "
        "(lens: their average baseline ramp gap). Empty when too few to tell.",
        "comparable": "Rated hires of the same role profiles who did not take it "
        "(lens: hires who did not hold it).",
        "comparable_change": "Their average change (lens: gap). Empty when too few to tell.",
        "too_few_to_tell": "yes when either group has fewer than five hires: no numbers then.",
        "tuition_per_hire": "Tuition spent on completed assignments per hire who completed it, "
        "per currency, such as 'USD 1200.00; EUR 300.00'.",
        "usefulness": "Hires' average answer to 'how useful was it for your role here', 1-5.",
        "feedback_count": "How many hires gave that feedback.",
    },
    "check-ins": {
        "hire": "The hire's full name.",
        "email": "The hire's email address.",
        "hiring_manager": "Username of the hiring manager.",
        "role_profile": "The hire's role profile.",
        "check_in": "baseline, day_30, day_60 or day_90.",
        "due_date": "Due date of the check-in, YYYY-MM-DD.",
        "completed_on": "Date it was completed, empty while open.",
        "competency": "The competency rated.",
        "expected_level": "The level the role profile expects by day 90, 1-4.",
        "manager_level": "The manager's rating, 1-4.",
        "self_level": "The hire's own rating, 1-4.",
        "gap": "How far the manager's rating sits below the expected level (0 at or above).",
        "note": "The manager's note.",
    },
    "tuition": {
        "quarter": "Calendar quarter of the assignments' due date, such as 2025-Q3.",
        "hiring_manager": "Username of the hiring manager.",
        "paid_by": "employer, hire or free.",
        "currency": "Currency; amounts in different currencies are never added up.",
        "assignments": "Number of assignments (waived ones are left out).",
        "tuition_total": "Sum of their tuition, two decimals.",
    },
}


EXPORT_NAMES = ("hires", "assignments", "tuition", "outcomes", "check-ins")

OUTCOMES_HEADER = list(COLUMN_HELP["outcomes"])


def columns(name: str) -> list[tuple[str, Any]]:
    """(header, lookup or expression) of each column of an export that is one query."""
    if name == "hires":
        return _hire_columns()
    if name == "assignments":
        return _assignment_columns()
    if name == "check-ins":
        return _check_in_columns()
    raise ValueError(f"Unknown export {name!r}; choose one of {', '.join(EXPORT_NAMES)}.")


def header(name: str) -> list[str]:
    if name == "tuition":
        return list(TUITION_HEADER)
    if name == "outcomes":
        return list(OUTCOMES_HEADER)
    return [title for title, _ in columns(name)]


def _check_in_columns() -> list[tuple[str, Any]]:
    # One row per rating; `expected_level` and `gap` are annotated by
    # selectors.check_in_ratings (the ramp gap's one definition, rules.gap_expression).
    return [
        ("hire", "check_in__hire__full_name"),
        ("email", "check_in__hire__email"),
        ("hiring_manager", "check_in__hire__hiring_manager__username"),
        ("role_profile", "check_in__hire__role_profile__name"),
        ("check_in", "check_in__kind"),
        ("due_date", IsoDate("check_in__due_date")),
        ("completed_on", IsoDate(TruncDate("check_in__completed_at"))),
        ("competency", "competency__name"),
        ("expected_level", "expected_level"),
        ("manager_level", "manager_level"),
        ("self_level", "self_level"),
        ("gap", "gap"),
        ("note", "note"),
    ]


def iter_csv(name: str, rows: Iterable[Iterable[Any]]) -> Iterator[bytes]:
    """The file: BOM + header, then one chunk of bytes per BATCH_ROWS rows.

    `rows` is normally export_rows(); it is read with .iterator(chunk_size=BATCH_ROWS)
    so the database cursor streams (a server-side cursor on PostgreSQL) and memory
    stays flat whatever the row count. Each chunk goes through csv.writer into one
    StringIO: one yield per batch, not per row, is what keeps this fast.
    """
    if isinstance(rows, QuerySet):
        rows = rows.iterator(chunk_size=BATCH_ROWS)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(name))
    yield (BOM + buffer.getvalue()).encode("utf-8")
    rows = iter(rows)
    while batch := list(islice(rows, BATCH_ROWS)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(safe_rows(batch))
        yield buffer.getvalue().encode("utf-8")


def filename(name: str, day: datetime.date | None = None) -> str:
    return f"{name}-{(day or timezone.localdate()).isoformat()}.csv"


def stream_response(name: str, rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(iter_csv(name, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(name)}"'
    # Personal data: no shared caches, no copies left behind in the browser cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


def write_csv(name: str, rows: Iterable[Iterable[Any]], fileobj: IO[bytes]) -> int:
    """Write the export to a binary file; returns the number of bytes written."""
    written = 0
    for chunk in iter_csv(name, rows):
        fileobj.write(chunk)
        written += len(chunk)
    return written
