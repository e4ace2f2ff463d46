"""The database triggers: defined once in code, installed around `migrate`, robust to changes.

The migration tests run real migrations (transactional tests): back to the state
before the triggers moved into code and forward again, and a set of ordinary
schema changes to the four tables the triggers read, applied through a
temporary migrations package. Each one fails on SQLite without the mechanism in
onboarding/triggers.py ("no such table: main.onboarding_newhire").
"""

from __future__ import annotations

import datetime
import sys
import textwrap
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from django.utils import timezone

from onboarding import rollups, services, triggers
from onboarding.models import Assignment, Guidance, PlanGuidance, TrainingPlan

from .factories import (
    CourseFactory,
    ManagerFactory,
    NewHireFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
    TrainingPlanFactory,
    UserFactory,
)
from .test_admin import form_data

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
LEGACY = "0011_always_guidance_trigger_per_statement"


def definitions() -> dict[str, str]:
    """What the database really holds: each trigger's (and function's) own definition."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
            )
        else:
            cursor.execute(
                """
                SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
                UNION ALL
                SELECT proname, prosrc FROM pg_proc
                WHERE pronamespace = current_schema()::regnamespace
                """
            )
        return dict(cursor.fetchall())


def leaf() -> str:
    [(_, name)] = MigrationLoader(connection).graph.leaf_nodes("onboarding")
    return name


def assert_invariants() -> None:
    assert rollups.differences() == []
    always = Guidance.objects.filter(rule=Guidance.Rule.ALWAYS)
    for plan in TrainingPlan.objects.all():
        attached = set(plan.guidance.values_list("guidance_id", flat=True))
        assert set(always.values_list("pk", flat=True)) <= attached, plan


def write_through_every_path(manager, superuser_client) -> None:
    """A plan and assignments through services, the admin, bulk_create and raw SQL."""
    hire = NewHireFactory(hiring_manager=manager, title="Senior Product Manager, Platform")
    template = PlanTemplateFactory()
    for offset in (5, 40):
        PlanTemplateItemFactory(template=template, due_offset_days=offset)
    plan = services.plan_create(actor=manager, hire=hire, template=template)
    first = plan.assignments.first()
    services.assignment_complete(actor=manager, assignment=first, completed_on=TODAY)
    services.hire_update(actor=manager, hire=hire, start_date=hire.start_date + DAY)

    Assignment.objects.bulk_create(
        [
            Assignment(
                plan=plan,
                course=CourseFactory(currency="EUR"),
                due_date=TODAY - DAY,
                tuition_cost=Decimal("99.50"),
            )
        ]
    )
    raw_plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=manager))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO onboarding_assignment (plan_id, course_id, due_date, status, paid_by, "
            "notes, position, created_at, updated_at, version) "
            "VALUES (%s, %s, %s, 'assigned', 'employer', '', 0, %s, %s, 1)",
            [raw_plan.pk, CourseFactory().pk, TODAY + DAY, timezone.now(), timezone.now()],
        )
        cursor.execute(
            "INSERT INTO onboarding_trainingplan (hire_id, title, owner_id, created_at, "
            "updated_at, version) VALUES (%s, 'Raw', %s, %s, %s, 1)",
            [hire.pk, manager.pk, timezone.now(), timezone.now()],
        )

    add = reverse("admin:onboarding_trainingplan_add")
    data = form_data(superuser_client.get(add))
    data.update(hire=hire.pk, title="Added in the admin", owner=manager.pk, template=template.pk)
    response = superuser_client.post(add, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert TrainingPlan.objects.filter(title="Added in the admin").exists()


# --- installing ------------------------------------------------------------------------------


def test_it_leaves_current_triggers_alone():
    assert triggers.is_current()
    before = definitions()
    assert triggers.install() is False
    assert definitions() == before


def test_it_defines_every_trigger_once_with_the_prefix():
    names = [obj.name for obj in triggers.objects_for(connection)]
    assert len(names) == len({(o.kind, o.name) for o in triggers.objects_for(connection)})
    assert all(name.startswith(triggers.PREFIX) for name in names)
    # Nothing else in the database carries the prefix: the install owns all of it.
    assert set(triggers.installed()) == set(triggers.expected())


def test_it_puts_back_what_was_taken_off_and_repairs_the_rows_written_meanwhile(owner):
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
    triggers.uninstall()
    assert triggers.installed() == {}
    # Written while the triggers were off: no progress row, no guidance, no totals.
    unguarded = TrainingPlan.objects.create(hire=plan.hire, title="Unguarded", owner=owner)
    Assignment.objects.create(plan=plan, course=CourseFactory(), due_date=TODAY - DAY)
    assert not unguarded.guidance.exists()
    assert rollups.differences()

    assert triggers.install() is True
    triggers.repair()
    assert triggers.is_current()
    assert_invariants()


@pytest.mark.django_db(transaction=True)
def test_it_installs_the_triggers_again_after_a_flush():
    triggers.uninstall()
    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=False)
    assert triggers.is_current()


def test_it_follows_the_rules_module_in_the_trigger_sql(monkeypatch):
    sql = " ".join(obj.sql for obj in triggers.objects_for(connection))
    assert "status NOT IN ('completed', 'waived')" in sql
    monkeypatch.setattr("onboarding.rules.CLOSED_STATUSES", ("completed",))
    changed = " ".join(obj.sql for obj in triggers.objects_for(connection))
    assert "status NOT IN ('completed')" in changed
    assert not triggers.is_current()


# --- migrations ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_ends_a_database_migrated_before_the_change_with_the_triggers_of_a_new_one(
    shipped_catalog,
):
    from_scratch = definitions()
    manager = ManagerFactory()
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=manager))
    Assignment.objects.create(plan=plan, course=CourseFactory(), due_date=TODAY)
    try:
        call_command("migrate", "onboarding", LEGACY, verbosity=0)
        legacy = definitions()
        # As the landed migrations left it: their own trigger names and functions.
        assert "onboarding_progress_assignment_insert" in legacy
        assert legacy != from_scratch
        Assignment.objects.filter(plan=plan).update(status="completed", completed_on=TODAY)
    finally:
        call_command("migrate", verbosity=0)
    assert definitions() == from_scratch
    assert triggers.is_current()
    assert_invariants()


SCHEMA_CHANGES = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("onboarding", "{leaf}")]

    operations = [
        migrations.AlterField(
            model_name="newhire",
            name="title",
            field=models.CharField(default="Product Manager", max_length=250),
        ),
        migrations.AlterField(
            model_name="trainingplan", name="title", field=models.CharField(max_length=250)
        ),
        migrations.AlterField(
            model_name="assignment",
            name="notes",
            field=models.TextField(blank=True, help_text="Changed by a test."),
        ),
        migrations.AlterField(
            model_name="planguidance",
            name="manager_note",
            field=models.TextField(blank=True, help_text="Changed by a test."),
        ),
        {add_fields}
        migrations.AddConstraint(
            model_name="newhire",
            constraint=models.CheckConstraint(
                condition=~models.Q(full_name=""), name="test_newhire_named"
            ),
        ),
        migrations.AddConstraint(
            model_name="trainingplan",
            constraint=models.CheckConstraint(
                condition=~models.Q(title=""), name="test_plan_titled"
            ),
        ),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.CheckConstraint(
                condition=models.Q(position__gte=0), name="test_assignment_position"
            ),
        ),
        migrations.AddConstraint(
            model_name="planguidance",
            constraint=models.CheckConstraint(
                condition=~models.Q(body=""), name="test_planguidance_body"
            ),
        ),
    ]
"""

REMOVALS = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("onboarding", "9001_schema_changes")]

    operations = [{removals}]
"""

MODELS = ("newhire", "trainingplan", "assignment", "planguidance")


@pytest.mark.django_db(transaction=True)
def test_it_runs_ordinary_schema_changes_on_the_triggered_tables(
    shipped_catalog, tmp_path, settings, client
):
    package = tmp_path / "schema_change_migrations"
    package.mkdir()
    real = sys.modules["onboarding.migrations"].__path__[0]
    # The real migrations and two more: one package, two folders.
    (package / "__init__.py").write_text(f"__path__ = [{real!r}, {str(package)!r}]\n")
    add_fields = "\n".join(
        f"migrations.AddField(model_name={name!r}, name='added_by_test', "
        "field=models.CharField(blank=True, default='', max_length=20)),"
        for name in MODELS
    )
    (package / "9001_schema_changes.py").write_text(
        textwrap.dedent(SCHEMA_CHANGES).format(leaf=leaf(), add_fields=add_fields)
    )
    removals = ", ".join(
        f"migrations.RemoveField(model_name={name!r}, name='added_by_test')" for name in MODELS
    )
    (package / "9002_removals.py").write_text(REMOVALS.format(removals=removals))
    sys.path.insert(0, str(tmp_path))
    real_leaf = leaf()
    settings.MIGRATION_MODULES = {"onboarding": "schema_change_migrations"}
    try:
        call_command("migrate", "onboarding", verbosity=0)
        assert "9002_removals" in {
            name for app, name in MigrationLoader(connection).applied_migrations
        }
        manager = ManagerFactory()
        superuser = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(superuser)
        write_through_every_path(manager, client)
        call_command("rebuild_rollups", "--check", verbosity=0)
        assert_invariants()
    finally:
        call_command("migrate", "onboarding", real_leaf, verbosity=0)
        settings.MIGRATION_MODULES = {}
        sys.path.remove(str(tmp_path))
        sys.modules.pop("schema_change_migrations", None)
        call_command("migrate", verbosity=0)
    assert triggers.is_current()
    assert_invariants()


def test_it_creates_the_role_groups_in_a_migration():
    managers = Group.objects.get(name="Hiring managers")
    people_ops = Group.objects.get(name="People ops")
    codenames = set(people_ops.permissions.values_list("codename", flat=True))
    assert "view_all_hires" in codenames
    assert "view_all_hires" not in set(managers.permissions.values_list("codename", flat=True))
    assert {"add_newhire", "change_trainingplan"} <= codenames


def test_it_keeps_guidance_attached_through_a_repair(owner):
    plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
    count = PlanGuidance.objects.filter(plan=plan).count()
    triggers.repair()
    assert PlanGuidance.objects.filter(plan=plan).count() == count
