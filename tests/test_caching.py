"""Cached figures and tables (caching.py): the home page and the hires list are served
from the cache while nothing changes, and never show a stale figure after a write."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding import caching, services
from onboarding.models import Assignment, Competency, DataChange, DataVersion, NewHire

from .factories import (
    AssignmentFactory,
    CourseFactory,
    NewHireFactory,
    RoleProfileFactory,
    TrainingPlanFactory,
)

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
HOME = reverse("onboarding:home")
HIRES = reverse("onboarding:hire_list")
PAGES = [HOME, HIRES]
LEVELS = {f"level_{n}": f"Level {n}" for n in range(1, 5)}
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's deferred version change"
)


def get(client, url: str) -> tuple[str, int]:
    """The page's body and how many queries it ran."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(ctx.captured_queries)


def without_per_request_values(body: str) -> str:
    """The page less what every response has afresh: CSRF tokens and CSP nonces."""
    return re.sub(r'[A-Za-z0-9]{64}|nonce="[^"]*"', "", body)


def card(body: str, label: str) -> int:
    found = re.search(rf'{label}</h3>\s*<p class="stat-value">([\d,]+)</p>', body)
    assert found, f"no {label!r} card"
    return int(found.group(1).replace(",", ""))


def make_hires(manager, count: int, *, role=None) -> list[NewHire]:
    hires = []
    for index in range(count):
        hire = NewHireFactory(
            hiring_manager=manager, role_profile=role, start_date=TODAY - (index % 90) * DAY
        )
        plan = TrainingPlanFactory(hire=hire)
        AssignmentFactory(plan=plan, due_date=TODAY - 3 * DAY)
        AssignmentFactory(plan=plan, status="completed", completed_on=TODAY)
        hires.append(hire)
    return hires


# --- served from the cache ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("persona", ["owner", "people_ops"])
def test_it_serves_an_unchanged_page_from_the_cache_in_few_queries(
    request, client, owner, persona, url
):
    client.force_login(request.getfixturevalue(persona))
    make_hires(owner, 5)
    cold_body, cold = get(client, url)
    warm_body, warm = get(client, url)
    # Session, user, permissions and the data version; no figure is counted again.
    assert warm <= 5 < cold
    assert without_per_request_values(warm_body) == without_per_request_values(cold_body)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", PAGES)
def test_it_serves_the_cached_page_in_the_same_queries_at_two_sizes(owner_client, owner, url):
    make_hires(owner, 3)
    get(owner_client, url)
    _, small = get(owner_client, url)
    make_hires(owner, 55)
    get(owner_client, url)
    body, large = get(owner_client, url)
    assert large == small
    table = body.split("hires-table", 1)[1]
    rows = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert rows.count("<tr>") == 50  # a full page of rows, from the cache


def test_it_keeps_each_viewers_page_apart(owner_client, client, owner, outsider):
    [mine] = make_hires(owner, 1)
    [theirs] = make_hires(outsider, 1)
    for url in PAGES:
        body, _ = get(owner_client, url)
        assert mine.full_name in body and theirs.full_name not in body
        client.force_login(outsider)
        body, _ = get(client, url)
        assert theirs.full_name in body and mine.full_name not in body
        client.force_login(owner)


def test_it_caches_each_filter_and_page_apart(owner_client, owner):
    make_hires(owner, 3)
    plain = NewHireFactory(hiring_manager=owner, full_name="Pat Planless")
    everyone, _ = get(owner_client, HIRES)
    overdue, _ = get(owner_client, HIRES + "?has_overdue=true")
    assert plain.full_name in everyone and plain.full_name not in overdue


@pytest.mark.django_db(transaction=True)
def test_it_computes_the_figures_again_the_next_day(owner_client, owner, monkeypatch):
    make_hires(owner, 2)
    get(owner_client, HOME)
    _, warm = get(owner_client, HOME)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY + DAY)
    _, next_day = get(owner_client, HOME)
    assert next_day > warm


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_bulk_forms_token_out_of_the_cache(people_ops, owner):
    """Two sessions of one viewer share the cached table, each with its own CSRF token."""
    hires = make_hires(owner, 2)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for session in (first, second):
        session.force_login(people_ops)
    get(first, HIRES)
    body, warm = get(second, HIRES)
    assert warm <= 5  # served from the cache the first session filled
    form = re.search(r'<form id="hire-bulk"[^>]*>(.*?)</form>', body, re.DOTALL)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1)).group(1)
    assert 'form="hire-bulk"' in body.split('<form id="hire-bulk"')[0]
    response = second.post(
        reverse("onboarding:hire_bulk"),
        {"csrfmiddlewaretoken": token, "action": "archive", "hires": [hires[0].pk]},
    )
    assert response.status_code == 302
    assert NewHire.objects.get(pk=hires[0].pk).archived_at is not None


# --- never stale after a write ------------------------------------------------------------


def assignment_of(hire: NewHire) -> Assignment:
    return Assignment.objects.filter(plan__hire=hire, status="assigned").get()


WRITES = {
    "a hire is added": lambda hire, actor: services.hire_create(
        actor=actor,
        full_name="Nadia New",
        email="nadia@example.com",
        start_date=TODAY,
        hiring_manager=hire.hiring_manager,
    ),
    "a hire is renamed": lambda hire, actor: services.hire_update(
        actor=actor, hire=hire, expected_version=hire.version, full_name="Nadia New"
    ),
    "a role profile is renamed": lambda hire, actor: (
        type(hire.role_profile).objects.filter(pk=hire.role_profile_id).update(name="Nadia New")
    ),
    "the manager is renamed": lambda hire, actor: (
        type(actor)
        .objects.filter(pk=hire.hiring_manager_id)
        .update(first_name="Nadia", last_name="New")
    ),
    "raw SQL renames a hire": lambda hire, actor: connection.cursor().execute(
        "UPDATE onboarding_newhire SET full_name = 'Nadia New' WHERE id = %s", [hire.pk]
    ),
}


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_it_shows_what_a_write_changed_at_once(people_ops_client, people_ops, owner, url, write):
    role = RoleProfileFactory(name="Platform PM")
    [hire] = make_hires(owner, 1, role=role)
    before, _ = get(people_ops_client, url)
    assert "Nadia New" not in before
    WRITES[write](hire, people_ops)
    after, _ = get(people_ops_client, url)
    assert "Nadia New" in after


def test_it_counts_again_when_training_is_completed(owner_client, owner):
    [hire] = make_hires(owner, 1)
    before, _ = get(owner_client, HOME)
    assert card(before, "Overdue assignments") == 1
    services.assignment_complete(
        actor=owner, assignment=assignment_of(hire), completed_on=TODAY, expected_version=None
    )
    after, _ = get(owner_client, HOME)
    assert card(after, "Overdue assignments") == 0


def test_it_drops_an_archived_hire_at_once(owner_client, owner):
    hires = make_hires(owner, 2)
    for url in PAGES:
        get(owner_client, url)
    services.hire_archive(actor=owner, hire=hires[0])
    home, _ = get(owner_client, HOME)
    listed, _ = get(owner_client, HIRES)
    assert card(home, "Active hires") == 1
    assert hires[0].full_name not in listed and hires[1].full_name in listed


def test_it_shows_a_course_renamed_in_the_catalog(owner_client, owner):
    [hire] = make_hires(owner, 1)
    course = assignment_of(hire).course
    get(owner_client, HOME)
    type(course).objects.filter(pk=course.pk).update(title="Nadia's Pricing Lab")
    body, _ = get(owner_client, HOME)
    assert "Nadia&#x27;s Pricing Lab" in body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", PAGES)
def test_it_shows_a_committed_write_to_the_next_request(client, owner, people_ops, url):
    """Each write commits as in production; on PostgreSQL the version changes at COMMIT."""
    client.force_login(people_ops)
    [hire] = make_hires(owner, 1)
    name = hire.full_name
    first, _ = get(client, url)
    get(client, url)
    services.hire_update(
        actor=people_ops, hire=hire, expected_version=hire.version, full_name="Nadia New"
    )
    CourseFactory()  # another committed write: the version changes each time
    second, _ = get(client, url)
    assert name in first and "Nadia New" in second and name not in second
    with transaction.atomic():
        services.hire_archive(actor=people_ops, hire=NewHire.objects.get(pk=hire.pk))
        services.hire_create(
            actor=people_ops,
            full_name="Omar Other",
            email="omar@example.com",
            start_date=TODAY,
            hiring_manager=owner,
        )
    third, _ = get(client, url)
    assert "Nadia New" not in third and "Omar Other" in third
    assert not DataChange.objects.exists()


# --- the data version ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_changes_the_version_with_each_write_and_not_with_reads(client, owner):
    client.force_login(owner)
    version = caching.data_version()
    assert version is not None
    get(client, HOME)
    assert caching.data_version() == version
    NewHireFactory(hiring_manager=owner)
    assert caching.data_version() not in (version, None)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_it_caches_nothing_in_a_transaction_that_wrote_and_has_not_committed(owner):
    before = caching.data_version()
    with transaction.atomic():
        assert caching.data_version() == before
        NewHireFactory(hiring_manager=owner)
        assert caching.data_version() is None
    assert caching.data_version() not in (before, None)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_it_changes_the_version_once_at_commit(owner):
    before = DataVersion.objects.get().token
    with transaction.atomic():
        for _ in range(3):
            NewHireFactory(hiring_manager=owner)
        assert DataVersion.objects.get().token == before
        assert DataChange.objects.count() == 1
    assert DataVersion.objects.get().token != before
    assert not DataChange.objects.exists()
    with transaction.atomic():
        NewHireFactory(hiring_manager=owner)
        transaction.set_rollback(True)
    after_rollback = DataVersion.objects.get().token
    NewHireFactory(hiring_manager=owner)
    assert DataVersion.objects.get().token != after_rollback


def test_it_does_not_cache_without_the_version_row(owner_client, owner):
    DataVersion.objects.all().delete()
    make_hires(owner, 1)
    _, first = get(owner_client, HOME)
    _, second = get(owner_client, HOME)
    assert second == first


def test_it_shows_the_outcome_report_of_the_current_data(owner_client, owner):
    outcomes = reverse("onboarding:outcomes")
    competency = Competency.objects.create(
        name="Pricing", slug="pricing-cache", description="Prices things.", **LEVELS
    )
    course = CourseFactory(title="Pricing Lab")
    get(owner_client, outcomes)
    _, warm = get(owner_client, outcomes)
    course.competencies.add(competency)  # only the link table changes
    body, after = get(owner_client, outcomes)
    assert ("Pricing Lab" in body and after > warm) or connection.vendor == "postgresql"
    type(course).objects.filter(pk=course.pk).update(title="Nadia's Pricing Lab")
    body, _ = get(owner_client, outcomes)
    assert "Nadia&#x27;s Pricing Lab" in body


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_it_lets_writers_commit_while_another_transaction_is_open(owner):
    """The token's row is locked only while committing: a long transaction that wrote
    (an import, say) does not hold up everyone else's saves."""
    started, release = threading.Event(), threading.Event()

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                NewHireFactory(hiring_manager=owner)
                started.set()
                release.wait(10)
        finally:
            connection.close()

    other = threading.Thread(target=long_transaction)
    other.start()
    try:
        assert started.wait(10)
        before = DataVersion.objects.get().token
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Waiting for the other transaction would fail here rather than hang.
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            NewHireFactory(hiring_manager=owner)
        assert DataVersion.objects.get().token != before
    finally:
        release.set()
        other.join(10)
    assert NewHire.objects.filter(hiring_manager=owner).count() == 2


def test_it_offers_bulk_actions_on_the_hires_list_only(people_ops_client, owner):
    make_hires(owner, 2)
    for _ in range(2):  # computed, then from the cache
        home, _ = get(people_ops_client, HOME)
        listed, _ = get(people_ops_client, HIRES)
        assert 'id="hire-bulk"' not in home and 'form="hire-bulk"' not in home
        assert 'id="hire-bulk"' in listed and 'form="hire-bulk"' in listed
