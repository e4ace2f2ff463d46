"""Cohort import of hires: template, preview, commit; all or nothing; round trip."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding import catalog, imports, services
from onboarding.models import Guidance, HireImport, NewHire, PlanGuidance, TrainingPlan

from .factories import (
    ManagerFactory,
    NewHireFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
    RoleProfileFactory,
    UserFactory,
)

HEADER = (
    "full_name,email,title,role_profile,start_date,new_to_product_management,"
    "previous_role,notes,hiring_manager"
)
IMPORT_URL = "/hires/import/"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def profile(db):
    return RoleProfileFactory(name="Technical PM")


def csv_file(*lines: str, header: str = HEADER, bom: bool = False, sep: str = ",") -> bytes:
    text = "\r\n".join([header.replace(",", sep), *lines]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def upload(client, content: bytes, template=None, name: str = "cohort.csv"):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if template is not None:
        data["template"] = template.pk
    return client.post(IMPORT_URL, data)


@pytest.fixture(autouse=True)
def tasks_run_immediately(settings):
    """The import task runs inside the request that commits (the immediate backend)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def confirm(client, response):
    form = response.context["confirm"]
    assert form is not None, response.content.decode()
    # The task is enqueued when the transaction commits; a test's never does, so its
    # on-commit callbacks are run here, as a real commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(IMPORT_URL, {"token": form.initial["token"]})


def imported_hires_url(client, response) -> str:
    """Where the finished run's page links: the hires list filtered to the import."""
    assert response.status_code == 302, html(response)
    page = client.get(response["Location"])
    assert page.context["run"].status == HireImport.Status.DONE, html(page)
    return page.context["hires_url"]


def html(response) -> str:
    return response.content.decode()


GOOD_ROWS = (
    "Ada Lovelace,ada@example.com,Senior PM,Technical PM,2025-09-01,yes,Engineer,First cohort,",
    "Grace Hopper,grace@example.com,,,2025-09-15,no,,,",
)


# --- access and the template ---------------------------------------------------------------


@pytest.mark.parametrize("url", [IMPORT_URL, "/hires/import/template.csv"])
def test_it_lets_managers_and_people_ops_in_and_no_one_else(
    client, owner, people_ops, plain_user, url
):
    assert reverse("onboarding:hire_import") == IMPORT_URL
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for user, status in ((plain_user, 403), (owner, 200), (people_ops, 200)):
        browser = Client()
        browser.force_login(user)
        assert browser.get(url).status_code == status


def test_it_offers_a_template_with_the_columns_and_an_example_row(owner_client):
    response = owner_client.get(reverse("onboarding:hire_import_template"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="hire-import-template.csv"' in response["Content-Disposition"]
    header, example, end = response.content.split(b"\r\n")
    assert header == b"\xef\xbb\xbf" + HEADER.encode() and end == b""
    assert example.startswith(b"Example: Alex Rivera")
    assert b"alex.rivera@example.com" in example


def test_it_skips_the_templates_example_row(owner_client, owner):
    template = owner_client.get(reverse("onboarding:hire_import_template")).content
    content = template + GOOD_ROWS[1].encode() + b"\r\n"
    preview = upload(owner_client, content)
    assert [row.values["full_name"] for row in preview.context["preview"].rows] == ["Grace Hopper"]
    assert "Skipped 1 example row" in html(preview)
    confirm(owner_client, preview)
    assert list(NewHire.objects.values_list("full_name", flat=True)) == ["Grace Hopper"]

    only_example = upload(owner_client, template)
    assert "no hires" in html(only_example)


# --- preview, then commit -----------------------------------------------------------------


def test_it_previews_every_row_then_imports_on_confirmation(owner_client, owner, profile):
    response = upload(owner_client, csv_file(*GOOD_ROWS))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert [(row.number, row.ok) for row in preview.rows] == [(2, True), (3, True)]
    assert "Import 2 hires" in html(response)
    assert 'type="hidden" name="token"' in html(response)
    assert not NewHire.objects.exists()  # nothing before the click

    response = confirm(owner_client, response)

    assert response.status_code == 302
    ada = NewHire.objects.get(email="ada@example.com")
    assert (ada.full_name, ada.title, ada.role_profile, ada.hiring_manager) == (
        "Ada Lovelace",
        "Senior PM",
        profile,
        owner,
    )
    assert (ada.start_date, ada.new_to_product_management, ada.previous_role, ada.notes) == (
        datetime.date(2025, 9, 1),
        True,
        "Engineer",
        "First cohort",
    )
    grace = NewHire.objects.get(email="grace@example.com")
    assert (grace.title, grace.role_profile, grace.new_to_product_management) == (
        "Product Manager",
        None,
        False,
    )
    assert ada.history.first().history_user == owner
    followed = owner_client.get(response["Location"])
    assert "Imported 2 hires" in html(followed)
    assert "2 of 2 rows done" in html(followed)


def test_it_lands_on_the_hires_it_imported(owner_client, owner, profile):
    NewHireFactory(hiring_manager=owner, full_name="Earlier Hire")
    response = confirm(owner_client, upload(owner_client, csv_file(*GOOD_ROWS)))
    url = imported_hires_url(owner_client, response)
    assert url.startswith(reverse("onboarding:hire_list") + "?imported=")
    assert f'href="{url}"' in html(owner_client.get(response["Location"])).replace("&amp;", "&")

    landed = owner_client.get(url)
    names = {hire.full_name for hire in landed.context["hires"]}
    assert names == {"Ada Lovelace", "Grace Hopper"}
    body = html(landed)
    assert "These are the hires of the import you just made." in body
    # Applying another filter keeps the import (a hidden field of the filter form).
    assert 'type="hidden" name="imported"' in body

    second = confirm(
        owner_client,
        upload(owner_client, csv_file("Alan Turing,alan@example.com,,,2025-10-01,no,,,")),
    )
    again = owner_client.get(imported_hires_url(owner_client, second))
    assert [hire.full_name for hire in again.context["hires"]] == ["Alan Turing"]


def test_it_creates_plans_from_a_template_with_their_guidance(owner_client, owner, profile):
    template = PlanTemplateFactory(name="PM basics")
    item = PlanTemplateItemFactory(template=template, due_offset_days=30)
    response = upload(owner_client, csv_file(*GOOD_ROWS), template=template)
    confirm(owner_client, response)

    plans = TrainingPlan.objects.filter(hire__hiring_manager=owner)
    assert plans.count() == 2
    ada_plan = plans.get(hire__email="ada@example.com")
    assert ada_plan.template == template
    assert [(a.course, a.due_date) for a in ada_plan.assignments.all()] == [
        (item.course, datetime.date(2025, 10, 1))
    ]
    for plan in plans:
        slugs = set(PlanGuidance.objects.filter(plan=plan).values_list("guidance__slug", flat=True))
        assert catalog.MILEAGE_SLUG in slugs
    new_to_pm = Guidance.objects.filter(rule=Guidance.Rule.NEW_TO_PM, active=True).first()
    if new_to_pm is not None:  # Ada is new to product management
        assert PlanGuidance.objects.filter(plan=ada_plan, guidance=new_to_pm).exists()


def test_it_accepts_a_bom_semicolons_and_header_spellings(owner_client, owner, profile):
    content = csv_file(
        "Ada Lovelace;ADA@example.com;2025-09-01;Technical PM",
        header="Full Name;E-mail;Start Date;Role",
        sep=";",
        bom=True,
    )
    response = upload(owner_client, content)
    assert response.context["preview"].ok, html(response)
    confirm(owner_client, response)
    assert NewHire.objects.get().email == "ada@example.com"  # stored as services normalise it


def test_it_makes_a_managers_imported_hires_their_own(owner_client, owner, profile):
    response = upload(owner_client, csv_file(GOOD_ROWS[0] + "owner", GOOD_ROWS[1]))
    confirm(owner_client, response)
    assert set(NewHire.objects.values_list("hiring_manager__username", flat=True)) == {"owner"}


def test_it_lets_people_ops_import_for_a_named_manager(people_ops_client, owner, profile):
    response = upload(people_ops_client, csv_file(GOOD_ROWS[0] + "owner", GOOD_ROWS[1]))
    confirm(people_ops_client, response)
    managers = dict(NewHire.objects.values_list("email", "hiring_manager__username"))
    assert managers == {"ada@example.com": "owner", "grace@example.com": "peopleops"}


# --- all or nothing -------------------------------------------------------------------------


BAD_FILES = {
    "bad date": (
        csv_file(GOOD_ROWS[0], "Bad Date,bad@example.com,,,01/09/2025,,,,"),
        "Row 3, column start_date",
    ),
    "impossible date": (
        csv_file(GOOD_ROWS[0], "Feb,feb@example.com,,,2025-02-30,,,,"),
        "Row 3, column start_date",
    ),
    "unknown role profile": (
        csv_file(GOOD_ROWS[0], "Role,role@example.com,,Astronaut,2025-09-01,,,,"),
        "Row 3, column role_profile",
    ),
    "duplicate in file": (
        csv_file(GOOD_ROWS[0], "Ada Again,ADA@EXAMPLE.COM,,,2025-09-01,,,,"),
        "Row 3, column email",
    ),
    "bad email": (
        csv_file(GOOD_ROWS[0], "No Mail,not-an-email,,,2025-09-01,,,,"),
        "Row 3, column email",
    ),
    "missing name": (
        csv_file(GOOD_ROWS[0], ",nameless@example.com,,,2025-09-01,,,,"),
        "Row 3, column full_name",
    ),
    "bad yes/no": (
        csv_file(GOOD_ROWS[0], "Maybe,maybe@example.com,,,2025-09-01,perhaps,,,"),
        "Row 3, column new_to_product_management",
    ),
    "too many cells": (
        csv_file(GOOD_ROWS[0], "Wide,wide@example.com,,,2025-09-01,,,,,surprise"),
        "Row 3, column —",
    ),
    "another manager": (
        csv_file(GOOD_ROWS[0], "Other,other@example.com,,,2025-09-01,,,,outsider"),
        "Row 3, column hiring_manager",
    ),
    "missing column": (
        csv_file("Ada,ada@example.com", header="full_name,email"),
        'Row 1: missing required column "start_date"',
    ),
    "wrong encoding": (
        "full_name,email,start_date\r\nZoë,zoe@example.com,2025-09-01\r\n".encode("latin-1"),
        "Row 2: the file is not UTF-8",
    ),
    "bad quoting": (
        csv_file(GOOD_ROWS[0], '"Unclosed,quote@example.com,,,2025-09-01,,,,'),
        "Row 3: this is not valid CSV",
    ),
    "header only": (csv_file(), "no hires"),
    "blank file": (b"   \r\n", "empty"),
    "NUL bytes": (b"full_name,email,start_date\r\n\x00\x00\x00", "NUL"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_it_imports_nothing_when_one_row_is_bad(owner_client, owner, outsider, profile, case):
    content, message = BAD_FILES[case]
    response = upload(owner_client, content)
    assert response.status_code == 200
    assert response.context["confirm"] is None
    page = html(response).replace("&quot;", '"')
    assert message in page
    assert "Nothing was imported" in page
    # Even a forged confirmation finds nothing to commit.
    owner_client.post(IMPORT_URL, {"token": "forged"})
    assert not NewHire.objects.exists()


def test_it_refuses_an_email_already_in_the_database_whatever_the_case(
    owner_client, outsider, profile
):
    NewHireFactory(hiring_manager=outsider, email="Ada@Example.com")
    response = upload(owner_client, csv_file(*GOOD_ROWS))
    assert "Row 2, column email" in html(response)
    assert NewHire.objects.count() == 1


def test_it_names_unknown_managers_for_people_ops(people_ops_client, profile):
    response = upload(people_ops_client, csv_file(GOOD_ROWS[0] + "nobody"))
    assert "Row 2, column hiring_manager" in html(response)
    plain = UserFactory(username="plainjane")
    response = upload(people_ops_client, csv_file(GOOD_ROWS[0] + plain.username))
    assert "may not manage hires" in html(response)
    assert not NewHire.objects.exists()


def test_it_refuses_files_over_the_size_limit(owner_client, profile):
    content = csv_file(*GOOD_ROWS) + b"," * (imports.MAX_BYTES + 1)
    response = upload(owner_client, content)
    assert "the limit is 5 MB" in html(response)
    assert not NewHire.objects.exists()


def test_it_refuses_files_over_the_row_limit(owner_client, profile):
    rows = [f"Hire {i},hire{i}@example.com,,,2025-09-01,,,," for i in range(imports.MAX_ROWS + 1)]
    response = upload(owner_client, csv_file(*rows))
    assert "more than 2,000 rows" in html(response)
    assert not NewHire.objects.exists()


def test_it_accepts_exactly_the_row_limit(owner, profile):
    rows = [f"Hire {i},hire{i}@example.com,,,2025-09-01,,,," for i in range(imports.MAX_ROWS)]
    preview = imports.parse(csv_file(*rows), user=owner)
    assert preview.ok and len(preview.rows) == imports.MAX_ROWS


def test_it_validates_again_when_committing(owner_client, outsider, profile):
    response = upload(owner_client, csv_file(*GOOD_ROWS))
    NewHireFactory(hiring_manager=outsider, email="grace@EXAMPLE.com")  # meanwhile
    response = confirm(owner_client, response)
    assert response.status_code == 200
    assert "Row 3, column email" in html(response)
    assert NewHire.objects.count() == 1


def test_it_rolls_back_every_hire_when_a_later_write_fails(owner, profile, monkeypatch):
    # The first chunk of rows is written, the second refused by a service: none stays.
    monkeypatch.setattr(services, "IMPORT_CHUNK", 1)
    real = services._bulk_check_hires
    calls = []

    def fail_on_second(hires, *, first_index):
        calls.append(first_index)
        if len(calls) == 2:
            from django.core.exceptions import ValidationError

            raise services.BulkRowError(first_index, ValidationError({"email": "went wrong"}))
        return real(hires, first_index=first_index)

    monkeypatch.setattr(services, "_bulk_check_hires", fail_on_second)
    with pytest.raises(imports.ImportRejected) as rejected:
        imports.commit(csv_file(*GOOD_ROWS), user=owner)
    assert "Row 3, column email: went wrong" in rejected.value.preview.messages()
    assert not NewHire.objects.exists()


def test_it_commits_only_the_upload_it_previewed(owner_client, profile):
    first = upload(owner_client, csv_file(GOOD_ROWS[0]))
    upload(owner_client, csv_file(GOOD_ROWS[1]))  # a newer upload replaces the first
    response = confirm(owner_client, first)
    assert response.status_code == 302
    assert not NewHire.objects.exists()
    assert "expired" in html(owner_client.get(response["Location"]))


# --- fuzzing: no 500, no partial import -------------------------------------------------------


def check_no_partial_import(client, content: bytes) -> None:
    before = NewHire.objects.count()
    response = upload(client, content)
    assert response.status_code == 200
    preview = response.context.get("preview")
    if preview is not None and preview.ok:
        response = confirm(client, response)
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert NewHire.objects.count() == before + len(preview.rows)
            return
    assert NewHire.objects.count() == before


@FUZZ
@given(content=st.binary(max_size=3000))
def test_it_survives_arbitrary_bytes(owner_client, content):
    check_no_partial_import(owner_client, content)


cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "Ada",
            "=1+1",
            "'-x",
            "2025-09-01",
            "2025-13-01",
            "yes",
            "no",
            "Technical PM",
            "owner",
            "outsider",
            '"',
            ";",
            ",",
            "\r\n",
            "\ufeff",
        ]
    ),
    st.integers(0, 10**6).map(lambda n: f"fuzz{n}@example.com"),
)
headers = st.lists(
    st.sampled_from([*imports.COLUMNS, "plan_count", "Full Name", "E-mail", "", "bogus"]),
    min_size=0,
    max_size=10,
)


@FUZZ
@given(
    header=headers,
    rows=st.lists(st.lists(cells, max_size=11), max_size=6),
    sep=st.sampled_from([",", ";"]),
    bom=st.booleans(),
)
def test_it_survives_arbitrary_csv(owner_client, outsider, profile, header, rows, sep, bom):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=sep)
    writer.writerow(header)
    writer.writerows(rows)
    content = (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8", "surrogatepass")
    check_no_partial_import(owner_client, content)


# --- round trip -----------------------------------------------------------------------------------


def test_it_reimports_its_own_hires_export(people_ops_client, owner, profile):
    other = ManagerFactory(username="-dash-manager")
    NewHireFactory(
        full_name='=HYPERLINK("http://evil")',
        email="formula@example.com",
        title="+Lead PM",
        role_profile=profile,
        hiring_manager=owner,
        start_date=datetime.date(2025, 1, 6),
        new_to_product_management=True,
        previous_role="@handle",
        notes='Line one\nline "two"; three',
    )
    NewHireFactory(
        full_name="Zoë Ñandú 東京",
        email="zoe@example.com",
        role_profile=None,
        hiring_manager=other,
        start_date=datetime.date(2025, 2, 3),
    )
    export_url = reverse("onboarding:export_hires")

    def fields() -> list[list[str]]:
        body = b"".join(people_ops_client.get(export_url).streaming_content)
        return [row[:9] for row in csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))]

    exported = b"".join(people_ops_client.get(export_url).streaming_content)
    before = fields()
    NewHire.objects.all().delete()

    response = upload(people_ops_client, exported, name="hires-export.csv")
    assert response.context["preview"].ok, html(response)
    assert "plan_count" in response.context["preview"].ignored_columns
    confirm(people_ops_client, response)

    assert NewHire.objects.count() == 2
    assert fields() == before
    assert NewHire.objects.get(email="formula@example.com").full_name.startswith("=HYPERLINK")
