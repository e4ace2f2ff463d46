"""Shared fixtures: the personas (owner, teammate, outsider, people-ops) and the catalog."""

import pytest
from django.core.cache import cache

from onboarding import catalog, framework, models

from .factories import (
    ManagerFactory,
    NewHireFactory,
    PeopleOpsFactory,
    TrainingPlanFactory,
    UserFactory,
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Give every test outside the browser folder the ordinary (rolled back) database.

    pytest-django runs tests it sees as database-free after the transactional
    browser tests, whose flush wipes the catalog the migrations installed. A test
    that reaches the database through request.getfixturevalue() looks database-free,
    so it would run on an empty catalog; marking it keeps it in the first group.
    """
    for item in items:
        if "browser" in item.nodeid.split("::")[0].split("/"):
            continue
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories hash every persona's password; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: the API's throttle counts requests per token
    id, and ids come round again once a test's rows are rolled back."""
    cache.clear()


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    """Background tasks run when enqueued (after the commit), as a worker would at once.

    Tasks that wait (retries) are kept aside in the backend's `deferred` list. The
    task tests choose the database and RQ backends themselves (tests/test_tasks.py).
    """
    settings.TASKS = {"default": {"BACKEND": "tests.task_backend.ImmediateUnlessDeferred"}}


@pytest.fixture(autouse=True)
def no_daily_totals_left_by_a_flush(request):
    """Transactional tests start with empty rollups, as they would on PostgreSQL.

    SQLite empties the tables one DELETE at a time in no fixed order; when
    DailyTotals goes before the assignments, their delete triggers write the
    assignments' shares back as negative rows. PostgreSQL's TRUNCATE fires no
    triggers.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        models.DailyTotals.objects.all().delete()


@pytest.fixture
def shipped_catalog(db):
    """The catalog and competency framework the data migrations install.

    Already there in ordinary tests; transactional tests (live_server) flush the
    database between tests, so they ask for this fixture to put it back.
    """
    catalog.catalog_install(
        RoleProfile=models.RoleProfile,
        Certification=models.Certification,
        Course=models.Course,
        PlanTemplate=models.PlanTemplate,
        PlanTemplateItem=models.PlanTemplateItem,
        Guidance=models.Guidance,
    )
    catalog.catalog_link_templates(PlanTemplate=models.PlanTemplate, RoleProfile=models.RoleProfile)
    framework.framework_install(
        Competency=models.Competency,
        RoleExpectation=models.RoleExpectation,
        RoleProfile=models.RoleProfile,
        Course=models.Course,
    )


@pytest.fixture
def owner(db):
    """A hiring manager who owns `hire`."""
    return ManagerFactory(username="owner", first_name="Olive", last_name="Owner")


@pytest.fixture
def outsider(db):
    """Another hiring manager: must never see the owner's hires."""
    return ManagerFactory(username="outsider", first_name="Oscar", last_name="Outsider")


@pytest.fixture
def people_ops(db):
    """People-ops: sees every hire."""
    return PeopleOpsFactory(username="peopleops", first_name="Pat", last_name="Ops")


@pytest.fixture
def superuser(db):
    """Staff and superuser: every admin page, every catalog write."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def plain_user(db):
    """Signed in, but no permissions and no hires."""
    return UserFactory(username="plain")


@pytest.fixture
def hire(owner):
    return NewHireFactory(hiring_manager=owner, full_name="Hana Hire", email="hana@example.com")


@pytest.fixture
def plan(hire):
    return TrainingPlanFactory(hire=hire, owner=hire.hiring_manager)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def people_ops_client(client, people_ops):
    client.force_login(people_ops)
    return client
