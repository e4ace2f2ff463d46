"""The catalog that ships with the product: installed once, then the organisation's."""

import importlib

import pytest
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader
from django.db.models import Q

from onboarding import catalog, models
from onboarding.catalog import MILEAGE_SLUG
from onboarding.models import (
    Certification,
    Course,
    Guidance,
    PlanTemplate,
    PlanTemplateItem,
    RoleProfile,
)

CATALOG_MODELS = [RoleProfile, Certification, Course, PlanTemplate, PlanTemplateItem, Guidance]


def install() -> None:
    catalog.catalog_install(
        RoleProfile=models.RoleProfile,
        Certification=models.Certification,
        Course=models.Course,
        PlanTemplate=models.PlanTemplate,
        PlanTemplateItem=models.PlanTemplateItem,
        Guidance=models.Guidance,
    )


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in CATALOG_MODELS}


# --- what the migration installs -------------------------------------------------------------


def test_it_ships_a_role_profile_per_archetype(db):
    archetypes = set(RoleProfile.objects.values_list("archetype", flat=True))
    assert RoleProfile.objects.count() == 4
    assert archetypes == {"business_owner", "technical", "marketing", "generalist"}
    for profile in RoleProfile.objects.all():
        assert profile.active
        assert "Adapt" in profile.expectations  # written for the organisation to adapt


def test_it_ships_the_five_certifications_with_safe_framework_bound(db):
    certs = {c.abbreviation or c.name: c for c in Certification.objects.all()}
    assert Certification.objects.count() == 5
    assert set(certs) == {"PMC", "CPM", "Blackblot Product Manager Certification", "POPM", "APM"}
    assert {c.issuer for c in certs.values()} == {
        "Pragmatic Institute",
        "AIPMM",
        "Blackblot",
        "Scaled Agile",
    }
    bound = {key for key, cert in certs.items() if cert.framework_bound}
    assert bound == {"POPM", "APM"}


def test_it_ships_pragmatic_institute_courses_leading_to_their_certification(db):
    pragmatic = Course.objects.filter(provider="Pragmatic Institute")
    assert pragmatic.filter(title="Foundations").exists()
    assert pragmatic.count() >= 3
    assert set(pragmatic.values_list("certification__abbreviation", flat=True)) == {"PMC"}


def test_it_ships_a_course_for_every_certification(db):
    for cert in Certification.objects.all():
        assert cert.courses.exists(), cert


def test_it_invents_no_prices(db):
    priced = Course.objects.exclude(Q(tuition__isnull=True) | Q(tuition=0))
    assert list(priced) == []
    # Only the organisation's own courses are known to be free.
    assert set(Course.objects.filter(tuition=0).values_list("provider", flat=True)) == {"In-house"}


def test_it_ships_plan_templates_with_sensible_offsets(db):
    assert set(PlanTemplate.objects.values_list("name", flat=True)) == {
        t["name"] for t in catalog.PLAN_TEMPLATES
    }
    for template in catalog.PLAN_TEMPLATES:
        items = PlanTemplateItem.objects.filter(template__name=template["name"]).order_by(
            "position"
        )
        assert [(i.course.title, i.course.provider, i.due_offset_days) for i in items] == list(
            template["items"]
        )


def test_it_ships_five_to_eight_pieces_of_guidance_with_exactly_one_always(db):
    assert 5 <= Guidance.objects.count() <= 8
    always = Guidance.objects.filter(rule=Guidance.Rule.ALWAYS)
    assert list(always.values_list("slug", flat=True)) == [MILEAGE_SLUG]
    assert "mileage may vary" in always.get().title.lower()
    rules = set(Guidance.objects.values_list("rule", flat=True))
    assert {"certification_course", "framework_certification", "new_to_pm", "employer_paid"} <= (
        rules
    )


# --- installing again ------------------------------------------------------------------------


def test_it_creates_nothing_new_when_installed_again(db):
    before = counts()
    install()
    assert counts() == before


def test_it_does_not_overwrite_edited_or_deactivated_rows(db):
    course = Course.objects.get(provider="Pragmatic Institute", title="Foundations")
    course.description = "Our own words."
    course.active = False
    course.save()
    Guidance.objects.filter(slug="certificate-is-not-the-job").update(body="Edited.", active=False)
    RoleProfile.objects.filter(archetype="generalist").update(expectations="Ours.", active=False)

    install()

    course.refresh_from_db()
    assert (course.description, course.active) == ("Our own words.", False)
    guidance = Guidance.objects.get(slug="certificate-is-not-the-job")
    assert (guidance.body, guidance.active) == ("Edited.", False)
    profile = RoleProfile.objects.get(archetype="generalist")
    assert (profile.expectations, profile.active) == ("Ours.", False)


def test_it_leaves_an_edited_template_alone(db):
    template = PlanTemplate.objects.get(name="Experienced product manager")
    template.items.filter(position=0).delete()
    before = template.items.count()
    install()
    assert template.items.count() == before


def test_it_does_not_recreate_a_deleted_row_on_migrate(db):
    RoleProfile.objects.filter(archetype="marketing").delete()
    Guidance.objects.filter(slug="hiring-managers-and-certificates").delete()
    before = counts()
    call_command("migrate", verbosity=0)
    assert counts() == before
    assert not RoleProfile.objects.filter(archetype="marketing").exists()


def test_it_records_the_catalog_migration_as_applied(db):
    from django.db import connection

    loader = MigrationLoader(connection)
    assert ("onboarding", "0002_install_catalog") in loader.applied_migrations


@pytest.fixture
def migration_apps(db):
    """The historical models the data migration runs against."""
    from django.db import connection

    loader = MigrationLoader(connection)
    return loader.project_state(("onboarding", "0002_install_catalog")).apps


def test_it_installs_nothing_over_edited_rows_through_the_migration_itself(migration_apps):
    migration = importlib.import_module("onboarding.migrations.0002_install_catalog")
    Guidance.objects.filter(slug=MILEAGE_SLUG).update(body="Our version of it.")
    Course.objects.filter(title="Focus").update(active=False)
    before = counts()

    migration.install(migration_apps, None)

    assert counts() == before
    assert Guidance.objects.get(slug=MILEAGE_SLUG).body == "Our version of it."
    assert not Course.objects.get(title="Focus").active


def test_it_fills_in_missing_rows_through_the_migration_function(migration_apps):
    migration = importlib.import_module("onboarding.migrations.0002_install_catalog")
    Guidance.objects.filter(slug="hiring-managers-and-certificates").delete()
    migration.install(migration_apps, None)
    assert Guidance.objects.filter(slug="hiring-managers-and-certificates").exists()
