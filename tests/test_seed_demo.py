"""`manage.py seed_demo`: demo users and hires in every state, idempotent."""

import datetime
import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.utils import timezone

from onboarding import demo
from onboarding.models import (
    Assignment,
    HeldCertification,
    NewHire,
    PlanGuidance,
    TrainingPlan,
    User,
)
from onboarding.rules import can_view_all

COUNTED = [User, NewHire, TrainingPlan, Assignment, HeldCertification, PlanGuidance]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings, monkeypatch):
    # The production hasher is slow on purpose; the command's logic is the same.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def row_counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    for model in (NewHire, TrainingPlan, Assignment, PlanGuidance):
        counts[f"{model.__name__} history"] = model.history.count()
    return counts


@pytest.fixture
def seeded(db):
    return seed("--password", "demo-pass-1234")


@pytest.fixture
def few_hires(db, monkeypatch):
    """Password behaviour does not depend on the hires: seed just two, quickly."""
    monkeypatch.setattr(demo, "HIRES", demo.HIRES[:2])


def printed_password(output: str) -> str:
    return output.split("Password: ", 1)[1].split()[0]


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


# --- idempotence and the printout ------------------------------------------------------------


def test_it_changes_nothing_when_run_twice(db):
    first = seed()
    counts = row_counts()
    hashes = dict(User.objects.values_list("username", "password"))
    second = seed()
    assert row_counts() == counts
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert "30 hires created" in first
    assert "0 hires created, 30 already there" in second


def test_it_prints_the_login_details(few_hires, settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    output = seed()
    assert "Sign in at http://127.0.0.1:8123/" in output
    for username in ("maria", "devon", "pat", "admin"):
        assert username in output
    password = printed_password(output)
    assert len(password) >= 16
    assert User.objects.get(username="maria").check_password(password)
    assert User.objects.get(username="pat").check_password(password)


def test_it_gives_a_new_user_a_fresh_password_and_leaves_the_others(few_hires):
    first = printed_password(seed())
    User.objects.filter(username="admin").delete()  # owns no hires
    output = seed()
    second = printed_password(output)
    assert second != first
    assert User.objects.get(username="admin").check_password(second)
    assert User.objects.get(username="maria").check_password(first)
    assert "admin    superuser (admin site)\n" in output
    assert "maria    hiring manager  [password unchanged]" in output


def test_it_keeps_existing_passwords_on_a_rerun_without_a_password(few_hires):
    seed("--password", "demo-pass-1234")
    output = seed()
    assert "Password:" not in output
    assert "password unchanged" in output
    assert "earlier run" in output
    assert User.objects.get(username="maria").check_password("demo-pass-1234")


def test_it_sets_the_password_given_by_option_on_existing_users(few_hires):
    seed("--password", "demo-pass-1234")
    output = seed("--password", "another-pass-5678")
    assert "Password: another-pass-5678" in output
    assert "unchanged" not in output
    for username in ("maria", "devon", "pat", "admin"):
        assert User.objects.get(username=username).check_password("another-pass-5678")


def test_it_takes_the_password_from_the_environment(few_hires, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-env-9876")
    output = seed()
    assert "Password: from-the-env-9876" in output
    assert User.objects.get(username="devon").check_password("from-the-env-9876")


def test_it_prefers_the_option_over_the_environment(few_hires, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-env-9876")
    seed("--password", "from-the-option-1234")
    assert User.objects.get(username="devon").check_password("from-the-option-1234")


def test_it_warns_about_a_weak_password_but_uses_it(few_hires):
    err = io.StringIO()
    call_command("seed_demo", "--password", "demo", stdout=io.StringIO(), stderr=err)
    assert "weak" in err.getvalue().lower()
    assert User.objects.get(username="maria").check_password("demo")


def test_it_switches_a_disabled_demo_account_back_on(few_hires):
    seed("--password", "demo-pass-1234")
    User.objects.filter(username="devon").update(is_active=False, is_staff=False)
    seed()
    devon = User.objects.get(username="devon")
    assert (devon.is_active, devon.is_staff) == (True, True)
    assert devon.check_password("demo-pass-1234")


# --- what it creates (one seed per test: it is the slow part) -------------------------------


def test_it_creates_two_managers_a_people_ops_user_and_an_admin(seeded):
    from .factories import manager_permissions

    maria, devon, pat, admin = (
        User.objects.get(username=u) for u in ("maria", "devon", "pat", "admin")
    )
    assert all(u.is_staff and u.is_active and not u.is_superuser for u in (maria, devon, pat))
    assert admin.is_superuser
    # Managers get exactly what the test personas get, through the migration's group.
    expected = {f"onboarding.{p.codename}" for p in manager_permissions()}
    for manager in (maria, devon):
        assert set(manager.groups.values_list("name", flat=True)) == {"Hiring managers"}
        assert manager.get_group_permissions() == expected
        assert not can_view_all(manager)
        assert not manager.has_perm("onboarding.change_course")
    assert can_view_all(pat)
    assert pat.has_perm("onboarding.change_course")
    assert pat.has_perm("onboarding.change_guidance")
    assert pat.has_perm("onboarding.change_plantemplate")


def test_it_spreads_the_hires_over_both_managers_and_every_role_profile(seeded):
    maria, devon, pat = (User.objects.get(username=u) for u in ("maria", "devon", "pat"))
    assert 25 <= NewHire.objects.active().count() <= 35
    mine = NewHire.objects.visible_to(maria)
    assert mine.count() >= 10
    assert NewHire.objects.visible_to(devon).count() >= 10
    assert not mine.filter(hiring_manager=devon).exists()
    assert NewHire.objects.visible_to(pat).count() == NewHire.objects.count()
    assert not NewHire.objects.visible_to(AnonymousUser()).exists()
    archetypes = set(NewHire.objects.values_list("role_profile__archetype", flat=True))
    assert archetypes == {"business_owner", "technical", "marketing", "generalist"}
    assert NewHire.objects.filter(new_to_product_management=True).count() >= 5
    assert NewHire.objects.filter(new_to_product_management=False).count() >= 5


def test_it_seeds_hires_in_every_state(seeded):
    health = [h.health for h in NewHire.objects.active().with_progress()]
    assert set(health) == {"no_plan", "on_track", "at_risk", "overdue", "complete"}
    assert health.count("overdue") >= 2
    # Besides last year's cohort (archived once onboarded), two or three archived hires.
    past_cohort = NewHire.objects.filter(notes__contains="Last year's cohort")
    assert past_cohort.count() == 24
    assert 2 <= NewHire.objects.archived().exclude(pk__in=past_cohort).count() <= 3
    # Not started yet, and starting within two weeks without a plan.
    future = NewHire.objects.filter(start_date__gt=days(0))
    assert future.count() >= 3
    assert future.filter(start_date__lte=days(14), plans__isnull=True).exists()
    # Overdue work, and training sessions booked in the next 30 days.
    assert Assignment.objects.overdue().exists()
    sessions = Assignment.objects.filter(
        status=Assignment.Status.SCHEDULED, scheduled_for__range=(days(0), days(30))
    )
    assert sessions.count() >= 3


def test_it_seeds_consistent_assignments_with_round_tuition(seeded):

    assert set(Assignment.objects.values_list("status", flat=True)) == set(Assignment.Status.values)
    completed = Assignment.objects.filter(status=Assignment.Status.COMPLETED)
    assert not completed.filter(completed_on__gt=days(0)).exists()
    for waived in Assignment.objects.filter(status=Assignment.Status.WAIVED):
        assert waived.completed_on is None
        assert "Waived:" in waived.notes
    assert not Assignment.objects.filter(
        status=Assignment.Status.SCHEDULED, scheduled_for__isnull=True
    ).exists()
    paid = Assignment.objects.filter(tuition_cost__gt=0)
    assert paid.filter(paid_by=Assignment.PaidBy.EMPLOYER).exists()
    assert paid.filter(paid_by=Assignment.PaidBy.HIRE).exists()
    assert all(amount % 100 == 0 for amount in paid.values_list("tuition_cost", flat=True))
    templated = TrainingPlan.objects.filter(template__isnull=False)
    assert templated.count() == TrainingPlan.objects.count()
    assert set(templated.values_list("template__name", flat=True)) == set(demo.TEMPLATES.values())


def test_it_gives_demo_courses_example_prices_and_hours_marked_as_such(seeded, client):
    from onboarding.models import Course

    priced = Course.objects.filter(tuition__gt=0)
    assert priced.count() == 9
    assert not Course.objects.filter(duration_hours__isnull=True).exists()
    for course in priced:
        assert demo.EXAMPLE_FIGURES_NOTE in course.description
    # The demo's own tuition stays: a hire whose price is still open keeps no price.
    assert Assignment.objects.filter(tuition_cost__isnull=True, paid_by="employer").exists()
    client.force_login(User.objects.get(username="maria"))
    foundations = priced.get(title="Foundations")
    page = client.get(foundations.get_absolute_url()).content.decode()
    assert "1,300.00 USD" in page and "16.0 hours" in page
    assert "Example figures (demo data)" in page


def test_it_ships_the_catalog_without_prices(db):
    from onboarding.models import Course

    assert not Course.objects.filter(tuition__gt=0).exists()


def test_it_keeps_course_figures_someone_entered(db):
    from decimal import Decimal

    from onboarding.models import Course

    Course.objects.filter(title="Foundations").update(tuition=Decimal("1495"))
    seed("--password", "demo-pass-1234")
    foundations = Course.objects.get(title="Foundations")
    assert foundations.tuition == Decimal("1495")
    assert foundations.duration_hours == Decimal("16")


def test_it_seeds_certifications_guidance_and_history(seeded):
    held = HeldCertification.objects
    assert held.expiring_within(90).exists()
    assert held.expired().count() == 1
    assert held.filter(assignment__isnull=False).exists()  # earned through a plan
    assert held.filter(assignment__isnull=True).exists()  # brought from earlier jobs

    for plan in TrainingPlan.objects.all():
        assert plan.guidance.filter(guidance__slug="mileage-may-vary").count() == 1
    discussed = PlanGuidance.objects.filter(acknowledged_at__isnull=False)
    assert discussed.count() >= 3
    assert not discussed.filter(manager_note="").exists()
    assert not discussed.filter(acknowledged_by__isnull=True).exists()
    assert PlanGuidance.objects.exclude(manager_note="").not_discussed().exists()

    for model in (NewHire, TrainingPlan, Assignment):
        assert model.history.exists()
        assert not model.history.filter(history_user__isnull=True).exists(), model
    maria_hire = NewHire.objects.filter(hiring_manager__username="maria").first()
    assert maria_hire.history.first().history_user.username == "maria"


def test_it_gives_demo_hires_unique_example_emails():
    emails = [spec.email for spec in demo.HIRES]
    assert len(set(emails)) == len(emails)
    assert all(e.endswith("@example.com") and e.isascii() for e in emails)
    assert demo.HIRES[2].email == "chloe.martin@example.com"


def test_it_explains_a_missing_catalog(db):
    from django.core.management.base import CommandError

    from onboarding.models import PlanTemplate

    PlanTemplate.objects.filter(name="SAFe organisation").delete()
    with pytest.raises(CommandError, match="no plan template 'SAFe organisation'"):
        seed()
    assert not NewHire.objects.exists()  # all or nothing


def test_it_prints_the_password_last(few_hires):
    lines = [line for line in seed().splitlines() if line.strip()]
    assert lines[-1].startswith("Password: ")


def test_it_repeats_the_sign_in_details_once_make_run_has_started_the_server():
    import pathlib
    import shutil
    import subprocess

    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    root = pathlib.Path(__file__).resolve().parent.parent
    recipe = subprocess.run(  # noqa: S603 (a fixed make command of this repository)
        [make, "-n", "run", "PORT=8123", "HOST=0.0.0.0"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "runserver 0.0.0.0:8123" in recipe
    assert "SITE_URL:-http://0.0.0.0:8123" in recipe
    # The block from "Sign in at" (users, password last) is printed again after a pause.
    assert "sleep 3" in recipe and "/^Sign in at/,$p" in recipe
    readme = (root / "README.md").read_text()
    assert "make run PORT=8123" in readme and "HOST=0.0.0.0" in readme
