"""CSV exports, the list pages they mirror, and `manage.py export_csv`."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from onboarding import exports, selectors
from onboarding.models import (
    Assignment,
    Course,
    HeldCertification,
    NewHire,
    PlanGuidance,
    TrainingPlan,
)
from onboarding.pagination import CappedCountPaginator

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    HeldCertificationFactory,
    NewHireFactory,
    TrainingPlanFactory,
)

EXPORT_NAMES = ["hires", "assignments", "tuition"]
HIRES_HEADER = [
    "full_name",
    "email",
    "title",
    "role_profile",
    "hiring_manager",
    "start_date",
    "new_to_product_management",
    "previous_role",
    "notes",
    "plan_count",
    "assignments_total",
    "assignments_completed",
    "assignments_overdue",
    "percent_complete",
    "health",
    "certifications_held",
    "archived_on",
]
ASSIGNMENTS_HEADER = [
    "hire",
    "email",
    "hiring_manager",
    "role_profile",
    "plan",
    "course",
    "provider",
    "certification",
    "status",
    "due_date",
    "scheduled_for",
    "completed_on",
    "overdue",
    "tuition_cost",
    "currency",
    "paid_by",
    "certification_earned_on",
    "guidance_discussed",
]
TUITION_HEADER = [
    "quarter",
    "hiring_manager",
    "paid_by",
    "currency",
    "assignments",
    "tuition_total",
]

# Arbitrary text the databases can store (PostgreSQL refuses NUL in text).
storable_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60
)
# Half of the examples start with a formula character, so each one is surely tried.
cell_text = st.one_of(
    storable_text,
    st.tuples(st.sampled_from(sorted(exports.FORMULA_STARTS)), storable_text).map("".join),
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> str:
    return (today() + datetime.timedelta(days=n)).isoformat()


def body_of(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def parse(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8")[1:], newline="")))


def download(client, name: str, query: str = "") -> list[list[str]]:
    response = client.get(reverse(f"onboarding:export_{name}") + query)
    assert response.status_code == 200, response.content
    return parse(body_of(response))


def expected_cell(text: str) -> str:
    return "'" + text if text[:1] in exports.FORMULA_STARTS else text


# --- safe_cell -------------------------------------------------------------------------


@pytest.mark.parametrize("char", sorted(exports.FORMULA_STARTS))
def test_it_neutralises_every_formula_start_character(char):
    assert exports.safe_cell(f"{char}SUM(A1:A9)") == f"'{char}SUM(A1:A9)"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-5, -5),
        (Decimal("-12.50"), Decimal("-12.50")),
        (3.5, 3.5),
        (datetime.date(2025, 1, 31), "2025-01-31"),
        (None, ""),
        (True, "yes"),
        (False, "no"),
        ("plain", "plain"),
        ("", ""),
        ("'=already quoted", "'=already quoted"),
        (" =leading space", "' =leading space"),  # a formula once spaces are trimmed
    ],
)
def test_it_keeps_numbers_and_dates_as_they_are(value, written):
    assert exports.safe_cell(value) == written


@given(text=st.one_of(st.text(), cell_text))
def test_it_reads_back_any_text_as_text(text):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow([exports.safe_cell(text), "after"])
    cells = next(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert cells == [expected_cell(text), "after"]
    assert exports.restore_cell(cells[0]) == text or text.startswith("'")


any_cell = st.one_of(
    st.text(max_size=8),
    st.sampled_from(sorted(exports.FORMULA_STARTS)),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.dates(),
    st.datetimes(),
)


def as_csv(rows) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


@given(rows=st.lists(st.lists(any_cell, min_size=3, max_size=3), max_size=20))
def test_it_writes_batches_exactly_as_safe_cell_writes_each_cell(rows):
    """safe_rows(), the batch fast path of every export, never differs from safe_cell()."""
    expected = as_csv([[exports.safe_cell(v) for v in row] for row in rows])
    assert as_csv(exports.safe_rows(rows)) == expected


@given(rows=st.lists(st.lists(any_cell, max_size=4), max_size=5))
def test_it_writes_ragged_batches_exactly_as_safe_cell_writes_each_cell(rows):
    expected = as_csv([[exports.safe_cell(v) for v in row] for row in rows])
    assert as_csv(exports.safe_rows(rows)) == expected


# --- exact headers and cells ----------------------------------------------------------


def test_it_exports_hires_with_their_progress_and_certifications(owner_client, hire, plan):
    NewHire.objects.filter(pk=hire.pk).update(
        title="Senior PM",
        new_to_product_management=True,
        previous_role="Business analyst",
        notes='Prefers "async";\nstarts remote',
    )
    AssignmentFactory(plan=plan, status="completed", completed_on=today(), due_date=today())
    AssignmentFactory(plan=plan, due_date=today() - datetime.timedelta(days=2))  # overdue
    AssignmentFactory(plan=plan, status="waived", due_date=today() - datetime.timedelta(days=3))
    AssignmentFactory(plan=plan, due_date=today() + datetime.timedelta(days=60))
    HeldCertificationFactory(hire=hire, certification=CertificationFactory(name="Zeta cert"))
    HeldCertificationFactory(hire=hire, certification=CertificationFactory(name="Alpha cert"))

    rows = download(owner_client, "hires")

    assert rows[0] == HIRES_HEADER
    assert rows[1:] == [
        [
            "Hana Hire",
            "hana@example.com",
            "Senior PM",
            hire.role_profile.name,
            "owner",
            hire.start_date.isoformat(),
            "yes",
            "Business analyst",
            'Prefers "async";\nstarts remote',
            "1",
            "4",
            "1",
            "1",
            "33",  # 1 completed of the 3 that count (the waived one does not)
            "overdue",
            "Alpha cert; Zeta cert",
            "",
        ]
    ]


def test_it_exports_a_hire_without_a_plan(owner_client, hire):
    rows = download(owner_client, "hires")
    assert rows[1][9:] == ["0", "0", "0", "0", "0", "no_plan", "", ""]


def test_it_exports_archived_hires_when_asked(owner_client, hire):
    NewHire.objects.filter(pk=hire.pk).update(
        archived_at=timezone.make_aware(datetime.datetime(2025, 3, 4, 12))
    )
    assert download(owner_client, "hires") == [HIRES_HEADER]
    rows = download(owner_client, "hires", "?archived=archived")
    assert rows[1][-1] == "2025-03-04"


def test_it_exports_assignments_as_the_flat_join(owner_client, hire, plan):
    course = CourseFactory(
        title="Product Strategy",
        provider="Pragmatic Institute",
        currency="EUR",
        certification=CertificationFactory(name="PMC-III"),
    )
    AssignmentFactory(
        plan=plan,
        course=course,
        status="completed",
        due_date=today() - datetime.timedelta(days=3),
        scheduled_for=today() - datetime.timedelta(days=4),
        completed_on=today() - datetime.timedelta(days=1),
        certification_earned_on=today() - datetime.timedelta(days=1),
        tuition_cost=Decimal("1295.50"),
        paid_by="employer",
    )
    AssignmentFactory(
        plan=plan,
        course=CourseFactory(title="Roadmaps", provider="Self"),
        due_date=today() - datetime.timedelta(days=1),
        paid_by="free",
    )
    PlanGuidance.objects.filter(plan=plan).update(acknowledged_at=timezone.now())

    rows = download(owner_client, "assignments")

    assert rows[0] == ASSIGNMENTS_HEADER
    common = ["Hana Hire", "hana@example.com", "owner", hire.role_profile.name, "Training plan"]
    assert rows[1:] == [
        [
            *common,
            "Product Strategy",
            "Pragmatic Institute",
            "PMC-III",
            "completed",
            days(-3),
            days(-4),
            days(-1),
            "no",
            "1295.50",
            "EUR",
            "employer",
            days(-1),
            "yes",
        ],
        [
            *common,
            "Roadmaps",
            "Self",
            "",
            "assigned",
            days(-1),
            "",
            "",
            "yes",
            "",
            "USD",
            "free",
            "",
            "yes",
        ],
    ]


def test_it_says_when_guidance_is_still_to_discuss(owner_client, plan):
    AssignmentFactory(plan=plan)
    assert PlanGuidance.objects.filter(plan=plan).exists()  # "mileage may vary", by trigger
    assert download(owner_client, "assignments")[1][-1] == "no"


@pytest.fixture
def tuition_world(owner, outsider, hire, plan):
    usd, eur = "USD", "EUR"

    def spend(due, cost, currency=usd, paid_by="employer", status="assigned", on=plan):
        course = CourseFactory(currency=currency)
        extra = {"completed_on": due} if status == "completed" else {}
        AssignmentFactory(
            plan=on,
            course=course,
            due_date=due,
            tuition_cost=cost,
            paid_by=paid_by,
            status=status,
            **extra,
        )

    spend(datetime.date(2025, 2, 10), Decimal("1000.00"))
    spend(datetime.date(2025, 3, 31), Decimal("500.50"), status="completed")
    spend(datetime.date(2025, 4, 1), Decimal("200.00"), currency=eur)
    spend(datetime.date(2025, 5, 1), Decimal("300.00"), paid_by="hire")
    spend(datetime.date(2025, 6, 1), Decimal("999.00"), status="waived")  # not spent
    spend(datetime.date(2026, 1, 15), None, paid_by="free")
    other_plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=outsider))
    spend(datetime.date(2025, 1, 5), Decimal("50.00"), on=other_plan)


def test_it_exports_tuition_by_quarter_manager_and_payer(owner_client, tuition_world):
    assert download(owner_client, "tuition") == [
        TUITION_HEADER,
        ["2025-Q1", "owner", "employer", "USD", "2", "1500.50"],
        ["2025-Q2", "owner", "employer", "EUR", "1", "200.00"],
        ["2025-Q2", "owner", "hire", "USD", "1", "300.00"],
    ]
    # Free courses' "0.00" rows only when asked for, on the page and in its export alike.
    assert download(owner_client, "tuition", "?include_free=on")[-1] == [
        "2026-Q1",
        "owner",
        "free",
        "USD",
        "1",
        "0.00",
    ]


def test_it_filters_tuition_by_the_year_of_the_due_date(people_ops_client, tuition_world):
    rows = download(people_ops_client, "tuition", "?year=2025&sort=-total")
    assert rows[1:] == [
        ["2025-Q1", "owner", "employer", "USD", "2", "1500.50"],
        ["2025-Q2", "owner", "hire", "USD", "1", "300.00"],
        ["2025-Q2", "owner", "employer", "EUR", "1", "200.00"],
        ["2025-Q1", "outsider", "employer", "USD", "1", "50.00"],
    ]


@pytest.mark.parametrize(
    ("name", "header"),
    [("hires", HIRES_HEADER), ("assignments", ASSIGNMENTS_HEADER), ("tuition", TUITION_HEADER)],
)
def test_it_documents_every_column_of_every_export(name, header):
    assert exports.header(name) == header
    assert list(exports.COLUMN_HELP[name]) == header


# --- filters and scoping ----------------------------------------------------------------


def test_it_applies_the_hire_filters(owner_client, owner, hire):
    NewHireFactory(hiring_manager=owner, full_name="Ravi Rao", email="ravi@example.com")
    assert [r[0] for r in download(owner_client, "hires", "?q=ravi")[1:]] == ["Ravi Rao"]
    assert [r[0] for r in download(owner_client, "hires", "?sort=name")[1:]] == [
        "Hana Hire",
        "Ravi Rao",
    ]
    assert [r[0] for r in download(owner_client, "hires", "?sort=-name")[1:]] == [
        "Ravi Rao",
        "Hana Hire",
    ]
    assert download(owner_client, "hires", "?health=complete") == [HIRES_HEADER]


def test_it_applies_the_assignment_filters(owner_client, plan):
    AssignmentFactory(
        plan=plan, course=CourseFactory(title="Late"), due_date=today() - datetime.timedelta(days=1)
    )
    AssignmentFactory(plan=plan, course=CourseFactory(title="Soon"))
    assert [r[5] for r in download(owner_client, "assignments")[1:]] == ["Late", "Soon"]
    assert [r[5] for r in download(owner_client, "assignments", "?overdue=true")[1:]] == ["Late"]
    assert [r[5] for r in download(owner_client, "assignments", "?q=soon")[1:]] == ["Soon"]
    assert [r[5] for r in download(owner_client, "assignments", "?sort=-due")[1:]] == [
        "Soon",
        "Late",
    ]
    assert download(owner_client, "assignments", "?status=completed") == [ASSIGNMENTS_HEADER]


@pytest.mark.parametrize("name", EXPORT_NAMES)
def test_it_never_exports_another_managers_rows(outsider_client, tuition_world, name):
    rows = download(outsider_client, name)
    assert all("owner" not in row and "Hana Hire" not in row for row in rows)
    assert len(rows) == 2  # the header and the outsider's own row


@pytest.mark.parametrize("name", EXPORT_NAMES)
def test_it_ignores_a_manager_filter_from_someone_who_is_not_people_ops(
    owner_client, outsider, tuition_world, name
):
    own = download(owner_client, name)
    assert download(owner_client, name, f"?hiring_manager={outsider.pk}") == own
    assert all("outsider" not in row for row in own)


@pytest.mark.parametrize("name", EXPORT_NAMES)
def test_it_lets_people_ops_filter_by_manager(people_ops_client, outsider, tuition_world, name):
    everyone = download(people_ops_client, name)
    assert {"owner", "outsider"} <= {cell for row in everyone for cell in row}
    rows = download(people_ops_client, name, f"?hiring_manager={outsider.pk}")
    assert len(rows) == 2 and "outsider" in rows[1]


@pytest.mark.parametrize("name", EXPORT_NAMES)
def test_it_sends_anonymous_users_to_sign_in(client, name):
    response = client.get(reverse(f"onboarding:export_{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("name", "query", "says"),
    [
        ("hires", "?start_after=someday", "start_after"),
        ("hires", "?health=sunburnt", "health"),
        ("assignments", "?status=bogus", "status"),
        ("assignments", "?sort=password", "sort"),
        ("tuition", "?year=twenty", "year"),
        ("tuition", "?sort=password", "sort"),
    ],
)
def test_it_refuses_an_invalid_filter_with_a_readable_message(owner_client, name, query, says):
    response = owner_client.get(reverse(f"onboarding:export_{name}") + query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert says in response.content.decode()


@pytest.mark.parametrize("name", EXPORT_NAMES)
def test_it_names_the_file_after_the_export_and_the_day(owner_client, name):
    response = owner_client.get(reverse(f"onboarding:export_{name}"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{name}-{today().isoformat()}.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    body_of(response)


# --- formula safety everywhere, with arbitrary text --------------------------------------


def _cell(rows: list[list[str]], header: list[str], column: str) -> str:
    assert len(rows) == 2, rows
    return rows[1][header.index(column)]


@FUZZ
@given(text=cell_text)
def test_it_neutralises_formulas_in_the_hires_export(owner_client, hire, text):
    NewHire.objects.filter(pk=hire.pk).update(full_name=text, notes=text)
    rows = download(owner_client, "hires")
    assert _cell(rows, HIRES_HEADER, "full_name") == expected_cell(text)
    assert _cell(rows, HIRES_HEADER, "notes") == expected_cell(text)


@FUZZ
@given(text=cell_text)
def test_it_neutralises_formulas_in_the_assignments_export(owner_client, plan, text):
    assignment = AssignmentFactory(plan=plan) if not plan.assignments.exists() else None
    assignment = assignment or plan.assignments.get()
    Course.objects.filter(pk=assignment.course_id).update(title=text, provider=text)
    TrainingPlan.objects.filter(pk=plan.pk).update(title=text)
    rows = download(owner_client, "assignments")
    for column in ("course", "provider", "plan"):
        assert _cell(rows, ASSIGNMENTS_HEADER, column) == expected_cell(text)


@FUZZ
@given(text=cell_text.map(lambda t: t[:150]))
def test_it_neutralises_formulas_in_the_tuition_export(owner_client, owner, plan, text):
    assume(text != "peopleops" and text != "outsider")
    if not plan.assignments.exists():
        AssignmentFactory(plan=plan, tuition_cost=Decimal("10.00"))
    type(owner).objects.filter(pk=owner.pk).update(username=text)
    rows = download(owner_client, "tuition")
    assert _cell(rows, TUITION_HEADER, "hiring_manager") == expected_cell(text)
    assert _cell(rows, TUITION_HEADER, "tuition_total") == "10.00"


def export_selected(name, queryset):
    return exports.stream_response(name, selectors.selected_rows(name, queryset))


@FUZZ
@given(text=cell_text)
def test_it_neutralises_formulas_in_the_admin_exports(hire, plan, text):
    """The admin's "Export selected as CSV" goes through selectors.selected_rows."""
    if not plan.assignments.exists():
        AssignmentFactory(plan=plan)
    NewHire.objects.filter(pk=hire.pk).update(full_name=text)
    hires = parse(body_of(export_selected("hires", NewHire.objects.filter(pk=hire.pk))))
    assert _cell(hires, HIRES_HEADER, "full_name") == expected_cell(text)
    assignments = parse(body_of(export_selected("assignments", plan.assignments.all())))
    assert _cell(assignments, ASSIGNMENTS_HEADER, "hire") == expected_cell(text)


def test_it_exports_exactly_the_rows_selected_in_the_admin(owner, plan):
    first, second = AssignmentFactory(plan=plan), AssignmentFactory(plan=plan)
    selected = Assignment.objects.filter(pk=second.pk).select_related("plan").order_by("-pk")
    response = export_selected("assignments", selected)
    assert response["Content-Disposition"].startswith('attachment; filename="assignments-')
    rows = parse(body_of(response))
    assert [row[5] for row in rows[1:]] == [second.course.title]
    assert first.course.title not in str(rows)
    with pytest.raises(TypeError):
        export_selected("hires", selected)


# --- streaming and query counts -----------------------------------------------------------


def bulk_assignments(plan: TrainingPlan, count: int) -> None:
    start = Course.objects.count()
    courses = Course.objects.bulk_create(
        Course(title=f"Bulk course {start + i}", provider="Bulk", delivery="self_paced")
        for i in range(count)
    )
    Assignment.objects.bulk_create(
        Assignment(
            plan=plan,
            course=course,
            due_date=today() + datetime.timedelta(days=i % 200 - 100),
            tuition_cost=Decimal("100.00"),
            paid_by="employer",
        )
        for i, course in enumerate(courses)
    )


def bulk_hires(manager, count: int) -> None:
    start = NewHire.objects.count()
    hires = NewHire.objects.bulk_create(
        NewHire(
            full_name=f"Bulk hire {start + i}",
            email=f"bulk{start + i}@example.com",
            hiring_manager=manager,
            start_date=today(),
        )
        for i in range(count)
    )
    plans = TrainingPlan.objects.bulk_create(
        TrainingPlan(hire=h, title="Plan", owner=manager) for h in hires
    )
    course = CourseFactory()
    Assignment.objects.bulk_create(
        Assignment(plan=p, course=course, due_date=today()) for p in plans
    )
    cert = CertificationFactory()
    HeldCertification.objects.bulk_create(
        HeldCertification(hire=h, certification=cert, earned_on=today()) for h in hires
    )


def export_queries(client, name: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        rows = download(client, name)
    return len(ctx.captured_queries), len(rows) - 1


@pytest.mark.parametrize("name", EXPORT_NAMES)
def test_it_runs_as_many_queries_for_1000_rows_as_for_10(owner_client, owner, plan, name):
    grow = bulk_hires if name == "hires" else lambda _, n: bulk_assignments(plan, n)
    grow(owner, 9 if name == "hires" else 10)
    small, small_rows = export_queries(owner_client, name)
    grow(owner, 990)
    large, large_rows = export_queries(owner_client, name)
    if name != "tuition":  # tuition rows are groups, not assignments
        assert (small_rows, large_rows) == (10, 1000)
    assert small == large


def test_it_streams_in_batches_of_2000_rows(owner_client, plan):
    bulk_assignments(plan, 4500)
    response = owner_client.get(reverse("onboarding:export_assignments"))
    chunks = list(response.streaming_content)
    # The header, then one chunk per 2,000 rows.
    assert [chunk.count(b"\r\n") for chunk in chunks] == [1, 2000, 2000, 500]


# --- manage.py export_csv ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query", "filters"),
    [
        ("hires", "", []),
        ("hires", "?q=hana&sort=-start", ["q=hana", "sort=-start"]),
        ("assignments", "", []),
        (
            "assignments",
            "?status=assigned&status=completed",
            ["status=assigned", "status=completed"],
        ),
        ("tuition", "?year=2025&sort=-total", ["year=2025", "sort=-total"]),
    ],
)
def test_it_writes_the_same_bytes_as_the_web_export(
    people_ops_client, tuition_world, tmp_path, name, query, filters
):
    web = body_of(people_ops_client.get(reverse(f"onboarding:export_{name}") + query))
    target = tmp_path / "out.csv"
    args = [name, "--output", str(target), *itertools.chain(*(("--filter", f) for f in filters))]
    call_command("export_csv", *args, stdout=io.StringIO())
    assert target.read_bytes() == web
    assert len(parse(web)) > 1


def test_it_exports_what_a_user_sees_with_user(owner_client, tuition_world, tmp_path):
    web = body_of(owner_client.get(reverse("onboarding:export_assignments")))
    target = tmp_path / "owner.csv"
    call_command(
        "export_csv", "assignments", "-o", str(target), "--user", "owner", stdout=io.StringIO()
    )
    assert target.read_bytes() == web
    assert b"outsider" not in web


@pytest.mark.parametrize(
    "args",
    [
        ["hires", "--filter", "start_after=soon"],
        ["hires", "--filter", "nonsense"],
        ["hires", "--user", "nobody"],
        ["hires", "--output", "/nonexistent-folder/x.csv"],
    ],
)
def test_it_explains_bad_command_arguments(db, args):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_csv", *args, stdout=io.StringIO())


# --- the list pages -----------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["onboarding:assignment_list", "onboarding:tuition"])
def test_it_sends_anonymous_users_from_list_pages_to_sign_in(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url_name", ["onboarding:assignment_list", "onboarding:tuition"])
def test_it_shows_list_pages_only_with_ones_own_rows(
    owner, outsider, people_ops, tuition_world, url_name
):
    def page_for(user) -> str:
        client = Client()
        client.force_login(user)
        response = client.get(reverse(url_name))
        assert response.status_code == 200
        return response.content.decode()

    owner_page, outsider_page = page_for(owner), page_for(outsider)
    assert "Olive Owner" in owner_page or ">owner<" in owner_page
    assert "Oscar Outsider" not in owner_page and ">outsider<" not in owner_page
    assert "Olive Owner" not in outsider_page and ">owner<" not in outsider_page
    ops_page = page_for(people_ops)
    assert "Oscar Outsider" in ops_page or ">outsider<" in ops_page


def test_it_lists_assignments_with_filters_sorting_and_pages(owner_client, plan):
    bulk_assignments(plan, 120)
    page = owner_client.get(reverse("onboarding:assignment_list") + "?sort=-due&page=3")
    assert page.status_code == 200
    assert len(page.context["page"].object_list) == 20
    dues = [a.due_date for a in page.context["page"].object_list]
    assert dues == sorted(dues, reverse=True)
    html = page.content.decode()
    assert 'href="/exports/assignments.csv?sort=-due"' in html
    assert "Page 3 of 3" in html
    assert "<code>guidance_discussed</code>" in html  # the documented column set


@pytest.mark.parametrize("url_name", ["onboarding:assignment_list", "onboarding:tuition"])
def test_it_keeps_list_page_queries_flat(owner_client, owner, plan, url_name):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert owner_client.get(reverse(url_name)).status_code == 200
        return len(ctx.captured_queries)

    bulk_assignments(plan, 10)
    small = queries()
    bulk_assignments(plan, 300)
    assert queries() == small
    assert small <= 8


def test_it_shows_an_empty_state_and_invalid_filters(owner_client, owner):
    empty = owner_client.get(reverse("onboarding:assignment_list")).content.decode()
    assert "No assignments yet" in empty
    bad = owner_client.get(reverse("onboarding:assignment_list") + "?due_after=nope")
    assert bad.status_code == 200 and "not valid" in bad.content.decode()
    bad = owner_client.get(reverse("onboarding:tuition") + "?sort=nope")
    assert bad.status_code == 200 and "Invalid filter" in bad.content.decode()


def test_it_shows_tuition_totals_per_currency(owner_client, tuition_world):
    page = owner_client.get(reverse("onboarding:tuition") + "?year=2025")
    totals = {t["currency"]: t["tuition_total"] for t in page.context["totals"]}
    assert totals == {"EUR": Decimal("200.00"), "USD": Decimal("1800.50")}
    assert 'href="/exports/tuition.csv?year=2025"' in page.content.decode()


def test_it_names_managers_by_full_name_on_the_tuition_page(people_ops_client, tuition_world):
    page = people_ops_client.get(reverse("onboarding:tuition") + "?year=2025")
    body = page.content.decode()
    assert "<td>Olive Owner</td>" in body
    assert "<td>owner</td>" not in body


def test_it_caps_the_assignment_count_on_huge_lists(owner_client, plan, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    for _ in range(5):
        AssignmentFactory(plan=plan)
    body = owner_client.get(reverse("onboarding:assignment_list")).content.decode()
    assert "More than 3 assignments" in body
    assert "export the CSV" in body


def test_it_counts_exactly_below_the_cap(owner_client, plan):
    for _ in range(2):
        AssignmentFactory(plan=plan)
    body = owner_client.get(reverse("onboarding:assignment_list")).content.decode()
    assert "2 assignments" in body
    assert "More than" not in body


def test_it_labels_the_assignment_filters_in_plain_words(owner_client):
    body = owner_client.get(reverse("onboarding:assignment_list")).content.decode()
    assert "Plan hire role profile" not in body
    assert re.search(r'for="id_role_profile" class="form-label">\s*Role profile\s*<', body)
    assert "---------" not in body
    assert "Due date (default)" in body


def test_it_hides_free_rows_on_the_tuition_page_unless_asked(owner_client, tuition_world):
    url = reverse("onboarding:tuition")
    payers = {row.paid_by for row in owner_client.get(url).context["page"].object_list}
    assert "free" not in payers
    shown = owner_client.get(url + "?include_free=on")
    assert "free" in {row.paid_by for row in shown.context["page"].object_list}
    assert 'href="/exports/tuition.csv?include_free=on"' in shown.content.decode()
