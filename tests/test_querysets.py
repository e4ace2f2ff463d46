"""The QuerySet definitions: scoping, overdue, due soon, progress and health."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding.models import (
    Assignment,
    HeldCertification,
    NewHire,
    PlanGuidance,
    TrainingPlan,
)
from onboarding.rules import (
    AT_RISK_WINDOW_DAYS,
    HEALTH_RULES,
    can_view_all,
    health_of,
    percent_of,
)

from .factories import (
    AssignmentFactory,
    HeldCertificationFactory,
    NewHireFactory,
    TrainingPlanFactory,
)

S = Assignment.Status


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


# --- visible_to ----------------------------------------------------------------------------

SCOPED_MODELS = [NewHire, TrainingPlan, Assignment, HeldCertification, PlanGuidance]


@pytest.fixture
def world(owner, outsider, hire, plan):
    """One hire with a row of each kind for the owner, and the same for the outsider."""
    AssignmentFactory(plan=plan)
    HeldCertificationFactory(hire=hire)
    theirs = NewHireFactory(hiring_manager=outsider)
    AssignmentFactory(plan=TrainingPlanFactory(hire=theirs))
    HeldCertificationFactory(hire=theirs)
    return {"mine": hire, "theirs": theirs}


def _rows_of(model, hire: NewHire):
    """The rows of `model` that belong to `hire`."""
    lookup = {
        NewHire: "pk",
        TrainingPlan: "hire",
        Assignment: "plan__hire",
        HeldCertification: "hire",
        PlanGuidance: "plan__hire",
    }[model]
    value = hire.pk if lookup == "pk" else hire
    return set(model.objects.filter(**{lookup: value}).values_list("pk", flat=True))


def _visible(model, user) -> set[int]:
    return set(model.objects.visible_to(user).values_list("pk", flat=True))


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_it_shows_an_owner_exactly_their_own_rows(world, owner, model):
    mine = _rows_of(model, world["mine"])
    assert mine, "the fixture must create a row of every kind"
    assert _visible(model, owner) == mine


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_it_shows_an_outsider_none_of_the_owners_rows(world, outsider, model):
    visible = _visible(model, outsider)
    assert not visible & _rows_of(model, world["mine"])
    assert visible == _rows_of(model, world["theirs"])


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_it_shows_people_ops_every_row(world, people_ops, model):
    assert _visible(model, people_ops) == set(model.objects.values_list("pk", flat=True))
    assert _visible(model, people_ops) >= _rows_of(model, world["mine"]) | _rows_of(
        model, world["theirs"]
    )


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_it_shows_anonymous_users_nothing(world, model):
    assert _visible(model, AnonymousUser()) == set()


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_it_shows_inactive_users_nothing_not_even_their_own(world, owner, people_ops, model):
    owner.is_active = False
    owner.save()
    people_ops.is_active = False
    people_ops.save()
    assert _visible(model, owner) == set()
    assert _visible(model, people_ops) == set()


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_it_shows_a_user_without_hires_nothing(world, plain_user, model):
    assert _visible(model, plain_user) == set()


def test_it_treats_only_active_holders_of_the_permission_as_people_ops(
    owner, people_ops, plain_user
):
    assert can_view_all(people_ops)
    assert not can_view_all(owner)
    assert not can_view_all(plain_user)
    people_ops.is_active = False
    assert not can_view_all(people_ops)


def test_it_lists_active_and_archived_hires_apart(owner):
    active = NewHireFactory(hiring_manager=owner)
    archived = NewHireFactory(hiring_manager=owner, archived_at=timezone.now())
    assert list(NewHire.objects.active()) == [active]
    assert list(NewHire.objects.archived()) == [archived]


def test_it_searches_hires_by_name_or_email(hire):
    assert list(NewHire.objects.search("hana h")) == [hire]
    assert list(NewHire.objects.search("HANA@EXAMPLE")) == [hire]
    assert list(NewHire.objects.search("nobody")) == []
    assert list(NewHire.objects.search("  ")) == [hire]


# --- overdue, open, due_within -------------------------------------------------------------


@pytest.fixture
def dated(plan):
    """Assignments named by their due offset and status."""

    def make(offset: int, status: str = S.ASSIGNED) -> Assignment:
        completed_on = days(min(offset, 0)) if status == S.COMPLETED else None
        return AssignmentFactory(
            plan=plan, due_date=days(offset), status=status, completed_on=completed_on
        )

    return make


def test_it_calls_an_open_assignment_due_yesterday_overdue(dated):
    yesterday = dated(-1)
    in_progress = dated(-30, S.IN_PROGRESS)
    scheduled = dated(-2, S.SCHEDULED)
    assert set(Assignment.objects.overdue()) == {yesterday, in_progress, scheduled}


def test_it_does_not_call_an_assignment_due_today_overdue(dated):
    dated(0)
    dated(5)
    assert not Assignment.objects.overdue().exists()


@pytest.mark.parametrize("status", [S.COMPLETED, S.WAIVED])
def test_it_never_calls_a_completed_or_waived_assignment_overdue(dated, status):
    dated(-100, status)
    dated(-1, status)
    assert not Assignment.objects.overdue().exists()


def test_it_judges_overdue_against_a_given_day(dated):
    due_today = dated(0)
    assert list(Assignment.objects.overdue(today=days(1))) == [due_today]
    assert not Assignment.objects.overdue(today=days(0)).exists()


def test_it_keeps_completed_and_waived_out_of_open(dated):
    open_ones = {dated(1), dated(2, S.SCHEDULED), dated(3, S.IN_PROGRESS)}
    dated(-1, S.COMPLETED)
    dated(4, S.WAIVED)
    assert set(Assignment.objects.open()) == open_ones


def test_it_includes_both_edges_in_due_within(dated):
    today, last_day = dated(0), dated(7)
    dated(8)
    dated(-1)
    assert set(Assignment.objects.due_within(7)) == {today, last_day}


def test_it_leaves_closed_assignments_out_of_due_within(dated):
    dated(1, S.WAIVED)
    dated(0, S.COMPLETED)
    scheduled = dated(3, S.SCHEDULED)
    assert list(Assignment.objects.due_within(7)) == [scheduled]


def test_it_treats_due_within_zero_days_as_due_today(dated):
    today = dated(0)
    dated(1)
    assert list(Assignment.objects.due_within(0)) == [today]


def test_it_finds_held_certifications_expiring_soon_and_expired(hire):
    def held(expires):
        return HeldCertificationFactory(hire=hire, earned_on=days(-400), expires_on=days(expires))

    today, edge, later, gone = held(0), held(90), held(91), held(-1)
    HeldCertificationFactory(hire=hire, expires_on=None)
    assert set(HeldCertification.objects.expiring_within(90)) == {today, edge}
    assert list(HeldCertification.objects.expired()) == [gone]
    assert later not in HeldCertification.objects.expiring_within(90)


# --- with_progress -------------------------------------------------------------------------


def _plan_progress(plan: TrainingPlan) -> TrainingPlan:
    return TrainingPlan.objects.with_progress().with_overdue_count().get(pk=plan.pk)


def _hire_progress(hire: NewHire) -> NewHire:
    return NewHire.objects.with_progress().with_overdue_count().get(pk=hire.pk)


def _numbers(obj) -> dict:
    return {
        "total": obj.total_count,
        "completed": obj.completed_count,
        "waived": obj.waived_count,
        "overdue": obj.overdue_count,
        "percent": obj.percent_complete,
        "health": obj.health,
    }


def test_it_counts_a_mixed_plan(plan, dated):
    dated(-5, S.COMPLETED)
    dated(-3, S.COMPLETED)
    dated(-1)  # overdue
    dated(3)  # at risk: due soon, not booked
    dated(40, S.WAIVED)
    assert _numbers(_plan_progress(plan)) == {
        "total": 5,
        "completed": 2,
        "waived": 1,
        "overdue": 1,
        "percent": 50,  # 2 of the 4 that still count
        "health": "overdue",
    }


def test_it_calls_an_empty_plan_at_risk_with_zero_percent(plan):
    assert _numbers(_plan_progress(plan)) == {
        "total": 0,
        "completed": 0,
        "waived": 0,
        "overdue": 0,
        "percent": 0,
        "health": "at_risk",
    }


def test_it_calls_an_all_waived_plan_complete_at_100_percent(plan, dated):
    dated(-5, S.WAIVED)
    dated(10, S.WAIVED)
    progress = _plan_progress(plan)
    assert (progress.percent_complete, progress.health) == (100, "complete")


def test_it_calls_a_plan_with_unbooked_training_due_soon_at_risk(plan, dated):
    dated(-2, S.COMPLETED)
    dated(AT_RISK_WINDOW_DAYS)
    assert _plan_progress(plan).health == "at_risk"


def test_it_calls_a_plan_with_booked_training_due_soon_on_track(plan, dated):
    dated(-2, S.COMPLETED)
    dated(1, S.SCHEDULED)
    dated(2, S.IN_PROGRESS)
    dated(AT_RISK_WINDOW_DAYS + 1)
    progress = _plan_progress(plan)
    assert (progress.health, progress.percent_complete) == ("on_track", 25)


def test_it_rounds_percent_down(plan, dated):
    dated(-2, S.COMPLETED)
    dated(30)
    dated(31)
    assert _plan_progress(plan).percent_complete == 33


def test_it_calls_a_hire_without_a_plan_no_plan(hire):
    progress = _hire_progress(hire)
    assert (progress.plan_count, progress.total_count, progress.percent_complete) == (0, 0, 0)
    assert progress.health == "no_plan"


def test_it_calls_a_hire_with_an_empty_plan_at_risk(plan, hire):
    progress = _hire_progress(hire)
    assert (progress.plan_count, progress.health) == (1, "at_risk")


def test_it_sums_a_hires_progress_over_all_plans(hire, plan, dated):
    dated(-4, S.COMPLETED)
    dated(20)
    second = TrainingPlanFactory(hire=hire)
    AssignmentFactory(plan=second, due_date=days(-1), status=S.WAIVED)
    AssignmentFactory(plan=second, due_date=days(25), status=S.COMPLETED, completed_on=days(0))
    progress = _hire_progress(hire)
    assert progress.plan_count == 2
    assert _numbers(progress) == {
        "total": 4,
        "completed": 2,
        "waived": 1,
        "overdue": 0,
        "percent": 66,
        "health": "on_track",
    }


def test_it_keeps_each_hires_progress_to_their_own_assignments(owner, dated, hire):
    dated(-1)
    other = NewHireFactory(hiring_manager=owner)
    AssignmentFactory(
        plan=TrainingPlanFactory(hire=other),
        due_date=days(-10),
        status=S.COMPLETED,
        completed_on=days(-10),
    )
    by_pk = {h.pk: h for h in NewHire.objects.with_progress()}
    assert (by_pk[hire.pk].health, by_pk[other.pk].health) == ("overdue", "complete")


def test_it_explains_every_health_value():
    assert set(HEALTH_RULES) == {"complete", "on_track", "at_risk", "overdue", "no_plan"}


# --- health_of / percent_of agree with the SQL ---------------------------------------------

assignment_mix = st.lists(
    st.tuples(st.sampled_from(list(S.values)), st.integers(min_value=-30, max_value=30)),
    max_size=8,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mix=assignment_mix)
def test_it_computes_health_and_percent_in_python_as_in_sql(owner, mix):
    hire = NewHireFactory(hiring_manager=owner)
    plan = TrainingPlanFactory(hire=hire)
    today = timezone.localdate()
    assignments = [
        AssignmentFactory(
            plan=plan,
            due_date=today + datetime.timedelta(days=offset),
            status=status,
            completed_on=today if status == S.COMPLETED else None,
        )
        for status, offset in mix
    ]
    # Counted independently of the queryset helpers, from the rules as written down.
    window_end = today + datetime.timedelta(days=AT_RISK_WINDOW_DAYS)
    expected = {
        "total": len(assignments),
        "completed": sum(a.status == S.COMPLETED for a in assignments),
        "waived": sum(a.status == S.WAIVED for a in assignments),
        "overdue": sum(a.is_overdue(today) for a in assignments),
        "at_risk": sum(
            a.status == S.ASSIGNED and today <= a.due_date <= window_end for a in assignments
        ),
    }
    for progress in (_plan_progress(plan), _hire_progress(hire)):
        counts = {key: value for key, value in _numbers(progress).items() if key in expected}
        assert counts == {key: value for key, value in expected.items() if key in counts}
        assert progress.percent_complete == percent_of(
            total=expected["total"], completed=expected["completed"], waived=expected["waived"]
        )
        assert progress.health == health_of(**expected)
    if expected["overdue"]:
        assert _plan_progress(plan).health == "overdue"
    elif expected["total"] and expected["total"] == expected["completed"] + expected["waived"]:
        assert _plan_progress(plan).health == "complete"


def test_it_gives_no_plan_precedence_in_health_of():
    assert health_of(total=0, completed=0, waived=0, overdue=0, at_risk=0, plans=0) == "no_plan"
    assert health_of(total=3, completed=1, waived=0, overdue=1, at_risk=1) == "overdue"
    assert health_of(total=0, completed=0, waived=0, overdue=0, at_risk=0) == "at_risk"
    assert health_of(total=2, completed=1, waived=1, overdue=0, at_risk=0) == "complete"
    assert health_of(total=2, completed=1, waived=0, overdue=0, at_risk=1) == "at_risk"
    assert health_of(total=2, completed=1, waived=0, overdue=0, at_risk=0) == "on_track"


def test_it_computes_percent_of_edge_cases():
    assert percent_of(total=0, completed=0, waived=0) == 0
    assert percent_of(total=2, completed=0, waived=2) == 100
    assert percent_of(total=3, completed=1, waived=0) == 33
    assert percent_of(total=3, completed=2, waived=1) == 100
