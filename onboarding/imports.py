"""Cohort import: new hires from a CSV file, all or nothing.

parse() reads and validates the whole file without writing anything and returns
a preview: every row with its result. Committing runs in the background: the
view records a HireImport and a task (import_tasks.py) calls run(), which parses
again (the database may have changed since the preview) and, only if every row
is valid, creates the hires — and optionally each hire's plan from a template —
in one transaction through services.hire_bulk_import, recording progress on the
HireImport row. commit() is the same check and write, synchronous. One bad row
imports nothing.

The file: UTF-8 with or without a byte-order mark; comma or semicolon separated
(Excel writes semicolons in many locales); a header row naming the columns in
COLUMNS (any order; case, spaces and hyphens do not matter; unknown columns are
ignored, so the hires export imports as it is); at most MAX_ROWS rows and
MAX_BYTES bytes. Rows are numbered as a spreadsheet shows them: the header is
row 1, the first hire row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from . import services
from .exports import restore_cell
from .filters import batch_change_reason
from .forms.imports import HireRowForm
from .models import HireImport, NewHire, PlanTemplate, RoleProfile, User
from .rules import can_view_all, manager_candidates, normalized_email

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
# Messages a failed run keeps (a file of 2,000 bad rows need not be stored twice).
MAX_MESSAGES = 50
# How often a background import records the rows it has checked (a write each time).
PROGRESS_EVERY = 250

# Column name -> what goes in it (shown on the import page and in the docs).
COLUMNS: dict[str, str] = {
    "full_name": "Required. The hire's full name.",
    "email": "Required. Unique among all hires, whatever the letter case.",
    "title": 'Optional; "Product Manager" when empty.',
    "role_profile": "Optional. The name of an existing role profile.",
    "start_date": "Required. YYYY-MM-DD, for example 2025-09-01.",
    "new_to_product_management": "Optional. yes or no (empty means no).",
    "previous_role": "Optional.",
    "notes": "Optional.",
    "hiring_manager": "Optional username. Only people-ops may name another manager; "
    "a manager's imported hires are always their own.",
}
REQUIRED = ("full_name", "email", "start_date")
# The downloadable template carries one filled-in row to show the format. A row whose
# full name starts with this is an example: the import skips it (and says so), so a
# file made from the template imports even if the example stays in.
EXAMPLE_PREFIX = "Example:"
EXAMPLE_ROW: dict[str, str] = {
    "full_name": f"{EXAMPLE_PREFIX} Alex Rivera (rows starting with {EXAMPLE_PREFIX} are skipped)",
    "email": "alex.rivera@example.com",
    "title": "Senior Product Manager",
    "role_profile": "Generalist product manager",
    "start_date": "2026-09-01",
    "new_to_product_management": "no",
    "previous_role": "Engineering lead",
    "notes": "Replace this row with your hires.",
    "hiring_manager": "",
}
# Other spellings people (and our own exports) use for the same columns.
ALIASES = {
    "name": "full_name",
    "hire": "full_name",
    "e_mail": "email",
    "role": "role_profile",
    "manager": "hiring_manager",
    "start": "start_date",
    "new_to_pm": "new_to_product_management",
}


class ImportRejected(Exception):
    """Nothing was imported; `preview` says which rows and columns are wrong."""

    def __init__(self, preview: ImportPreview):
        self.preview = preview
        super().__init__("; ".join(preview.messages()[:5]))


@dataclass
class RowResult:
    number: int
    values: dict[str, str]
    errors: list[tuple[str, str]] = field(default_factory=list)
    cleaned: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, column: str, message: str) -> None:
        self.errors.append((column, message))
        self.cleaned = None

    def messages(self) -> list[str]:
        return [f"Row {self.number}, column {column}: {message}" for column, message in self.errors]


@dataclass
class ImportPreview:
    rows: list[RowResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the file as a whole
    ignored_columns: list[str] = field(default_factory=list)
    delimiter: str = ","
    examples_skipped: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def invalid_rows(self) -> list[RowResult]:
        return [row for row in self.rows if not row.ok]

    def messages(self) -> list[str]:
        return self.errors + [m for row in self.rows for m in row.messages()]


def normalise_header(name: str) -> str:
    key = name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def template_csv() -> bytes:
    """The downloadable template: the header row and one example row (which the import
    skips), UTF-8 with a BOM for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE_ROW[name] for name in COLUMNS])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def _decode(content: bytes, preview: ImportPreview) -> str | None:
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        preview.errors.append(
            f"Row {line}: the file is not UTF-8 encoded (byte 0x{content[error.start]:02x} "
            f'cannot be read). In Excel, save it as "CSV UTF-8 (Comma delimited)".'
        )
        return None


def _delimiter(text: str) -> str:
    # The header row decides: Excel writes ";" where "," is the decimal separator.
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","


class MalformedCsv(Exception):
    def __init__(self, number: int, reason: str):
        self.number, self.reason = number, reason
        super().__init__(f"Row {number}: this is not valid CSV ({reason}).")


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) for every non-blank record."""
    # strict: a stray quote is an error to report, not a silently merged cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise MalformedCsv(number + 1, str(error)) from None
        number += 1
        if any(cell.strip() for cell in cells):
            yield number, cells


def parse(
    content: bytes, *, user: User, progress: Callable[[int], object] | None = None
) -> ImportPreview:
    """Read and validate the whole file; write nothing. `progress` hears the number of
    rows checked every PROGRESS_EVERY rows."""
    preview = ImportPreview()
    if len(content) > MAX_BYTES:
        preview.errors.append(
            f"The file is {len(content) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB. Split it into smaller files."
        )
        return preview
    text = _decode(content, preview)
    if text is None:
        return preview
    if not text.strip():
        preview.errors.append("The file is empty.")
        return preview
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        preview.errors.append(f"Row {line}: the file contains NUL characters; is it really CSV?")
        return preview
    preview.delimiter = _delimiter(text)

    records = _records(text, preview.delimiter)
    try:
        header_number, header_cells = next(records)
        columns = _read_header(header_number, header_cells, preview)
        if columns is None:
            return preview
        for number, cells in records:
            if len(preview.rows) == MAX_ROWS:
                preview.errors.append(
                    f"The file has more than {MAX_ROWS:,} rows; import at most {MAX_ROWS:,} "
                    "hires at a time."
                )
                preview.rows.clear()
                return preview
            row = _read_row(number, cells, columns)
            if row.values["full_name"].casefold().startswith(EXAMPLE_PREFIX.casefold()):
                preview.examples_skipped += 1
                continue
            preview.rows.append(row)
    except MalformedCsv as error:
        preview.errors.append(str(error))
        preview.rows.clear()
        return preview
    except StopIteration:
        preview.errors.append("The file is empty.")
        return preview
    if not preview.rows:
        preview.errors.append("The file has a header row but no hires.")
        return preview
    _validate(preview, user=user, progress=progress)
    return preview


def _read_header(number: int, cells: list[str], preview: ImportPreview) -> list[str | None] | None:
    columns: list[str | None] = []
    seen: set[str] = set()
    for cell in cells:
        name = normalise_header(cell)
        if name in COLUMNS:
            if name in seen:
                preview.errors.append(f'Row {number}: the column "{name}" appears twice.')
            seen.add(name)
            columns.append(name)
        else:
            if name:
                preview.ignored_columns.append(cell.strip())
            columns.append(None)
    missing = [name for name in REQUIRED if name not in seen]
    if missing:
        preview.errors.append(
            f"Row {number}: missing required column{'s' if len(missing) > 1 else ''} "
            + ", ".join(f'"{name}"' for name in missing)
            + ". Download the template to see the expected header row."
        )
    return None if preview.errors else columns


def _read_row(number: int, cells: list[str], columns: list[str | None]) -> RowResult:
    values = dict.fromkeys(COLUMNS, "")
    for name, cell in zip(columns, cells, strict=False):
        if name is not None:
            values[name] = restore_cell(cell.strip())
    row = RowResult(number=number, values=values)
    extra = cells[len(columns) :]
    if any(cell.strip() for cell in extra):
        row.add_error(
            "—", f"The row has {len(cells)} cells but the header names only {len(columns)}."
        )
    return row


def _validate(
    preview: ImportPreview, *, user: User, progress: Callable[[int], object] | None = None
) -> None:
    """Field rules per row, then the checks that need the whole file or the database."""
    people_ops = can_view_all(user)
    profiles = {p.name.lower(): p for p in RoleProfile.objects.all()}
    usernames = {row.values["hiring_manager"] for row in preview.rows} - {""}
    managers = {u.username: u for u in User.objects.filter(username__in=usernames, is_active=True)}
    # The one who-may-manage rule, asked once for every name in the file.
    allowed = set(
        manager_candidates(user).filter(username__in=usernames).values_list("username", flat=True)
    )
    emails = {normalized_email(row.values["email"]) for row in preview.rows} - {""}
    taken = set(
        NewHire.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .values_list("email_lower", flat=True)
    )
    first_row_of: dict[str, int] = {}

    for checked, row in enumerate(preview.rows, 1):
        if progress is not None and checked % PROGRESS_EVERY == 0:
            progress(checked)
        if not row.ok:
            continue
        form = HireRowForm(row.values)
        if not form.is_valid():
            for column, messages in form.errors.items():
                for message in messages:
                    row.add_error(column, message)
        data = form.cleaned_data

        email = normalized_email(row.values["email"])
        if email and email in first_row_of:
            row.add_error("email", f"The same email as row {first_row_of[email]} ({email}).")
        elif email:
            first_row_of[email] = row.number
            if email in taken:
                row.add_error("email", f"A hire with the email {email} already exists.")

        profile = None
        profile_name = row.values["role_profile"]
        if profile_name:
            profile = profiles.get(profile_name.lower())
            if profile is None:
                row.add_error("role_profile", f'There is no role profile named "{profile_name}".')

        manager = user
        username = row.values["hiring_manager"]
        if username and username != user.username:
            if not people_ops:
                row.add_error(
                    "hiring_manager",
                    "Only people-ops can import hires for another manager; leave it empty "
                    f"or put your own username ({user.username}).",
                )
            elif username not in managers:
                row.add_error("hiring_manager", f'There is no active user "{username}".')
            elif username not in allowed:
                row.add_error("hiring_manager", f"{username} may not manage hires.")
            else:
                manager = managers[username]

        if row.ok:
            row.cleaned = {
                "full_name": data["full_name"],
                "email": data["email"],
                "title": data["title"] or "Product Manager",
                "role_profile": profile,
                "start_date": data["start_date"],
                "new_to_product_management": data["new_to_product_management"],
                "previous_role": data["previous_role"],
                "notes": data["notes"],
                "hiring_manager": manager,
            }


def commit(
    content: bytes,
    *,
    user: User,
    template: PlanTemplate | None = None,
    batch: str = "",
    progress: Callable[[int], object] | None = None,
) -> list[NewHire]:
    """Validate again and create every hire (and plan), or raise ImportRejected.

    `batch` names the import in each hire's history, so its hires can be listed.
    The writes are services.hire_bulk_import's: a few INSERTs per chunk of rows."""
    preview = parse(content, user=user)
    if not preview.ok:
        raise ImportRejected(preview)
    return write(preview, user=user, template=template, batch=batch, progress=progress)


def write(
    preview: ImportPreview,
    *,
    user: User,
    template: PlanTemplate | None = None,
    batch: str = "",
    progress: Callable[[int], object] | None = None,
) -> list[NewHire]:
    """Create the hires (and plans) of a valid preview in one transaction, or raise
    ImportRejected naming the row and column a service refused."""
    try:
        with transaction.atomic():
            return services.hire_bulk_import(
                actor=user,
                rows=[row.cleaned for row in preview.rows],
                template=template,
                change_reason=batch_change_reason(batch) if batch else None,
                progress=progress,
            )
    except services.BulkRowError as error:
        row = preview.rows[error.index]
        by_field = error.message_dict if hasattr(error, "error_dict") else {}
        by_field = by_field or {"—": error.messages}
        for column, messages in by_field.items():
            for message in messages:
                row.add_error(column if column != "__all__" else "—", message)
        raise ImportRejected(preview) from error
    except IntegrityError as error:
        # Someone created a clashing hire between the checks and the insert.
        preview.errors.append(
            "Another change to the hires happened while importing; nothing was imported. "
            "Upload the file again."
        )
        raise ImportRejected(preview) from error


# --- the background run -------------------------------------------------------------------


def run(*, run_id: int) -> str:
    """What the import task does: check the stored file again, then write every row or
    none, recording progress on the HireImport row as it goes.

    Progress and all or nothing: checking the rows writes nothing, so the count of
    rows checked is committed as it grows (every PROGRESS_EVERY rows) and another
    connection (the page's poll) sees it. The writes then happen in one transaction,
    so that a refusal or a crash leaves no hire behind; it commits together with the
    final count and the status "done". Rows written inside it cannot be counted from
    outside, so on PostgreSQL a second connection records the count after each chunk
    (services.hire_import_progress_aside); on SQLite (one writer at a time) the count
    moves when the write commits. Bulk writes keep that phase short (about 5 s for
    2,000 hires with plans).
    """
    hire_import = services.hire_import_claim(run_id=run_id)
    if hire_import is None:
        return "not queued"
    try:
        return _run(hire_import)
    except Exception:
        # Recorded for the person watching the page; the task backend logs the rest.
        _fail(
            hire_import, message="The import stopped on an unexpected error. Nothing was imported."
        )
        raise


def _run(hire_import: HireImport) -> str:
    user = hire_import.created_by
    template = hire_import.template
    if hire_import.with_plans and (template is None or not template.active):
        return _fail(
            hire_import,
            message="The chosen plan template is no longer available. Nothing was imported.",
        )

    def checked(count: int) -> None:
        services.hire_import_update(run=hire_import, rows_checked=count)

    preview = parse(bytes(hire_import.content), user=user, progress=checked)
    if not preview.ok:
        return _fail(hire_import, preview=preview)
    services.hire_import_update(
        run=hire_import, rows_checked=len(preview.rows), rows_total=len(preview.rows)
    )
    try:
        with transaction.atomic():
            hires = write(
                preview,
                user=user,
                template=template,
                batch=hire_import.batch,
                progress=lambda done: services.hire_import_progress_aside(
                    run=hire_import, rows_done=done
                ),
            )
            services.hire_import_update(
                run=hire_import,
                status=HireImport.Status.DONE,
                rows_done=len(hires),
                finished_at=timezone.now(),
                content=b"",
            )
    except ImportRejected as rejected:
        return _fail(hire_import, preview=rejected.preview)
    return "done"


def _fail(
    hire_import: HireImport, *, preview: ImportPreview | None = None, message: str = ""
) -> str:
    """Record why nothing was imported: the first row and column at fault, and every
    message (up to a point)."""
    row_number, column = None, ""
    if preview is not None:
        if not preview.errors and preview.invalid_rows:
            first = preview.invalid_rows[0]
            row_number, column = first.number, first.errors[0][0]
        problems = preview.messages()
        more = len(problems) - MAX_MESSAGES
        message = "\n".join(problems[:MAX_MESSAGES]) + (f"\nAnd {more} more." if more > 0 else "")
    services.hire_import_update(
        run=hire_import,
        status=HireImport.Status.FAILED,
        error_row=row_number,
        error_field=column[:50],
        error_message=message,
        rows_done=0,
        finished_at=timezone.now(),
        content=b"",
    )
    return "failed"
