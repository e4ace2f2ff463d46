"""The outcome report's arithmetic on a hand-built data set, its threshold, scoping and exports."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding import outcomes, services
from onboarding.models import CheckIn, Competency, RoleExpectation
from onboarding.rules import CheckInKind

from .factories import (
    CertificationFactory,
    CourseFactory,
    NewHireFactory,
    RoleProfileFactory,
)

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def competency(name: str, position: int = 0) -> Competency:
    levels = {f"level_{n}": f"{name} at level {n}" for n in range(1, 5)}
    return Competency.objects.create(
        name=name,
        slug=name.lower().replace(" ", "-"),
        description=name,
        position=position,
        **levels,
    )


@pytest.fixture
def framework(db):
    """A role profile expecting level 3 in two competencies; courses targeting one each."""
    alpha, beta = competency("Alpha", 0), competency("Beta", 1)
    profile = RoleProfileFactory(name="Profile P")
    for target in (alpha, beta):
        RoleExpectation.objects.create(role_profile=profile, competency=target, expected_level=3)
    other_profile = RoleProfileFactory(name="Profile Q")
    RoleExpectation.objects.create(role_profile=other_profile, competency=alpha, expected_level=2)
    certification = CertificationFactory(name="Cert C", abbreviation="CC")
    course_x = CourseFactory(
        title="Course X", provider="Acme", tuition=Decimal("100"), certification=certification
    )
    course_x.competencies.add(alpha)
    course_y = CourseFactory(title="Course Y", provider="Acme", tuition=Decimal("0"))
    course_y.competencies.add(beta)
    return {
        "alpha": alpha,
        "beta": beta,
        "profile": profile,
        "other_profile": other_profile,
        "x": course_x,
        "y": course_y,
        "certification": certification,
    }


def rated_hire(
    manager,
    framework,
    *,
    name: str,
    baseline: dict[str, int],
    day_90: dict[str, int] | None,
    took: tuple = (),
    profile: str = "profile",
    start: datetime.date | None = None,
):
    """A hire of `profile` with completed baseline and day-90 check-ins rated as given."""
    hire = NewHireFactory(
        hiring_manager=manager,
        full_name=name,
        role_profile=framework[profile],
        start_date=start or TODAY - 120 * DAY,
    )
    plan = services.plan_create(actor=manager, hire=hire, title="Plan")
    for key in took:
        assignment = services.assignment_add(
            actor=manager, plan=plan, course=framework[key], due_date=hire.start_date + 20 * DAY
        )
        services.assignment_complete(
            actor=manager, assignment=assignment, completed_on=hire.start_date + 20 * DAY
        )
    for kind, levels in ((CheckInKind.BASELINE, baseline), (CheckInKind.DAY_90, day_90)):
        if levels is None:
            continue
        check_in = CheckIn.objects.get(hire=hire, kind=kind)
        ratings = {framework[key].pk: (level, "") for key, level in levels.items()}
        for target in ("alpha", "beta"):
            ratings.setdefault(framework[target].pk, (None, ""))
        if profile == "other_profile":
            ratings = {k: v for k, v in ratings.items() if k == framework["alpha"].pk}
        services.check_in_record(actor=manager, check_in=check_in, ratings=ratings, complete=True)
    return hire


@pytest.fixture
def cohort(owner, framework):
    """Five hires took course X, five comparable hires did not."""
    took_changes = [(1, 3), (1, 2), (2, 3), (1, 3), (2, 3)]  # alpha: +2, +1, +1, +2, +1
    others_changes = [(1, 1), (1, 2), (2, 2), (1, 2), (2, 2)]  # alpha: 0, +1, 0, +1, 0
    takers = [
        rated_hire(
            owner,
            framework,
            name=f"Taker {n}",
            baseline={"alpha": before, "beta": 2},
            day_90={"alpha": after, "beta": 3},
            took=("x",),
        )
        for n, (before, after) in enumerate(took_changes)
    ]
    others = [
        rated_hire(
            owner,
            framework,
            name=f"Other {n}",
            baseline={"alpha": before, "beta": 2},
            day_90={"alpha": after, "beta": 2},
        )
        for n, (before, after) in enumerate(others_changes)
    ]
    return takers, others


def owner_csv(client, name: str) -> list[dict]:
    response = client.get(reverse(name))
    return list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )


def row(report: dict, section: str, name: str):
    return next(r for r in report[section] if r.name == name)


# --- the arithmetic ----------------------------------------------------------------------------


def test_it_compares_the_change_of_hires_who_took_a_course_with_comparable_hires(
    owner, framework, cohort
):
    report = outcomes.report(user=owner, data={})
    x = row(report, "courses", "Course X (Acme)")
    assert (x.completed, x.took, x.others) == (5, 5, 5)
    assert x.took_change == pytest.approx(1.4)
    assert x.others_change == pytest.approx(0.4)
    assert x.difference == pytest.approx(1.0)
    assert not x.too_few
    # Tuition per hire: 5 seats of 100 for the 5 hires who completed it.
    assert x.tuition_per_hire == [("USD", Decimal("100.00"))]
    assert x.competencies == ["Alpha"]


def test_it_says_too_few_below_five_in_either_group(owner, framework, cohort):
    takers, _ = cohort
    CheckIn.objects.filter(hire=takers[0], kind=CheckInKind.DAY_90).update(completed_at=None)
    x = row(outcomes.report(user=owner, data={}), "courses", "Course X (Acme)")
    assert (x.took, x.others) == (4, 5)
    assert x.too_few
    assert x.difference is None


def test_it_averages_a_hires_change_over_the_courses_competencies(owner, framework, cohort):
    # Provider Acme targets alpha (X) and beta (Y); nobody completed Y, so "took it"
    # is X's takers, each averaging alpha and beta: takers' beta goes 2 -> 3 (+1).
    acme = row(outcomes.report(user=owner, data={}), "providers", "Acme")
    assert (acme.took, acme.others) == (5, 5)
    assert acme.took_change == pytest.approx((1.5 + 1 + 1 + 1.5 + 1) / 5)  # 1.2
    assert acme.others_change == pytest.approx((0 + 0.5 + 0 + 0.5 + 0) / 5)  # 0.2
    certification = row(outcomes.report(user=owner, data={}), "certifications", "Cert C (CC)")
    assert certification.took_change == pytest.approx(1.4)


def test_it_compares_only_hires_of_the_same_role_profiles(owner, framework, cohort):
    for n in range(3):
        rated_hire(
            owner,
            framework,
            name=f"Elsewhere {n}",
            baseline={"alpha": 1},
            day_90={"alpha": 4},
            profile="other_profile",
        )
    x = row(outcomes.report(user=owner, data={}), "courses", "Course X (Acme)")
    assert x.others == 5
    assert x.others_change == pytest.approx(0.4)


def test_it_compares_baseline_gaps_of_hires_who_held_a_certification(owner, framework, cohort):
    takers, _ = cohort
    for hire in takers:
        services.held_certification_create(
            actor=owner,
            hire=hire,
            certification=framework["certification"],
            earned_on=hire.start_date - 10 * DAY,
        )
    lens = next(
        r for r in outcomes.report(user=owner, data={})["lens"] if r.certification.name == "Cert C"
    )
    # Expected 3 and 3; takers' baseline alpha 1,1,2,1,2 and beta 2: gaps 3,3,2,3,2.
    assert (lens.held, lens.not_held) == (5, 5)
    assert lens.held_gap == pytest.approx(2.6)
    # Others' baseline alpha 1,1,2,1,2, beta 2: the same gaps.
    assert lens.not_held_gap == pytest.approx(2.6)
    assert not lens.too_few


def test_it_does_not_count_a_certification_earned_after_the_start(owner, framework, cohort):
    takers, _ = cohort
    services.held_certification_create(
        actor=owner,
        hire=takers[0],
        certification=framework["certification"],
        earned_on=takers[0].start_date + 30 * DAY,
    )
    lens = next(
        r for r in outcomes.report(user=owner, data={})["lens"] if r.certification.name == "Cert C"
    )
    assert (lens.held, lens.not_held) == (0, 10)


# --- filters and scoping ----------------------------------------------------------------------


def test_it_covers_only_the_managers_own_hires_group_sizes_included(
    owner, outsider, framework, cohort, client
):
    for n in range(5):
        rated_hire(
            outsider,
            framework,
            name=f"Secret {n}",
            baseline={"alpha": 1, "beta": 1},
            day_90={"alpha": 4, "beta": 1},
            took=("x",),
        )
    x = row(outcomes.report(user=owner, data={}), "courses", "Course X (Acme)")
    assert (x.completed, x.took, x.others) == (5, 5, 5)
    client.force_login(owner)
    for path in (
        "onboarding:outcomes",
        "onboarding:export_outcomes",
        "onboarding:export_check_ins",
    ):
        body = client.get(reverse(path))
        content = (b"".join(body.streaming_content) if body.streaming else body.content).decode()
        assert "Secret" not in content, path
    exported = owner_csv(client, "onboarding:export_outcomes")
    x = next(r for r in exported if r["name"] == "Course X (Acme)")
    assert (x["completed"], x["took_it"], x["comparable"]) == ("5", "5", "5")


def test_it_lets_people_ops_see_every_hire_and_filter_by_manager(
    owner, outsider, people_ops, framework, cohort
):
    for n in range(5):
        rated_hire(
            outsider, framework, name=f"Secret {n}", baseline={"alpha": 1, "beta": 1}, day_90=None
        )
    everyone = outcomes.report(user=people_ops, data={})
    assert everyone["hires"] == 15
    mine = outcomes.report(user=people_ops, data={"hiring_manager": str(owner.pk)})
    assert mine["hires"] == 10


def test_it_filters_by_start_quarter_role_profile_and_provider(owner, framework, cohort):
    start = TODAY - 120 * DAY
    quarter = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    assert outcomes.report(user=owner, data={"start_quarter": quarter})["hires"] == 10
    profile = framework["other_profile"].pk
    assert outcomes.report(user=owner, data={"role_profile": str(profile)})["hires"] == 0
    only = outcomes.report(user=owner, data={"provider": "nobody"})
    assert only["courses"] == []
    assert outcomes.report(user=owner, data={"start_quarter": "1999-Q9"})["filter"].errors


def test_it_answers_a_bad_filter_on_the_exports_with_a_message(owner_client, framework):
    response = owner_client.get(reverse("onboarding:export_outcomes"), {"role_profile": "x"})
    assert response.status_code == 400
    assert b"role_profile" in response.content


# --- page and exports --------------------------------------------------------------------------


def test_it_shows_numbers_or_too_few_on_the_page(owner_client, framework, cohort):
    body = owner_client.get(reverse("onboarding:outcomes")).content.decode()
    assert "+1.40" in body and "+0.40" in body
    assert "too few to tell" in body  # course Y: nobody took it
    assert 'id="outcome-chart-data"' in body


def test_it_exports_outcomes_and_one_row_per_rating(owner_client, framework, cohort):
    response = owner_client.get(reverse("onboarding:export_outcomes"))
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    x = next(r for r in rows if r["name"] == "Course X (Acme)")
    assert (x["took_it"], x["took_it_change"], x["comparable_change"]) == ("5", "1.4", "0.4")
    assert x["too_few_to_tell"] == "no"
    y = next(r for r in rows if r["name"] == "Course Y (Acme)")
    assert (y["too_few_to_tell"], y["took_it_change"]) == ("yes", "")

    response = owner_client.get(reverse("onboarding:export_check_ins"))
    ratings = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    assert len(ratings) == 10 * 2 * 2  # ten hires, two check-ins, two competencies
    first = next(r for r in ratings if r["hire"] == "Taker 0" and r["check_in"] == "baseline")
    assert first["expected_level"] == "3"
    assert first["gap"] in ("1", "2")


def test_it_keeps_formulas_out_of_both_exports(owner_client, owner, framework, cohort):
    Competency.objects.filter(pk=framework["alpha"].pk).update(name="=HYPERLINK(1)")
    services.check_in_record(
        actor=owner,
        check_in=CheckIn.objects.filter(hire=cohort[0][0], kind=CheckInKind.DAY_30).get(),
        ratings={framework["alpha"].pk: (2, "@SUM(A1)"), framework["beta"].pk: (2, "")},
    )
    for name in ("onboarding:export_outcomes", "onboarding:export_check_ins"):
        text = b"".join(owner_client.get(reverse(name)).streaming_content).decode("utf-8-sig")
        cells = [cell for line in csv.reader(io.StringIO(text)) for cell in line]
        assert not [c for c in cells if c and c[0] in "=+@"], name
        assert any(c.startswith("'=HYPERLINK") or "'=HYPERLINK" in c for c in cells), name


def test_it_runs_the_report_in_the_same_queries_whatever_the_size(
    owner, framework, cohort, django_assert_num_queries
):
    with CaptureQueriesContext(connection) as small:
        outcomes.report(user=owner, data={})
    for n in range(6):
        rated_hire(
            owner,
            framework,
            name=f"More {n}",
            baseline={"alpha": 1, "beta": 1},
            day_90={"alpha": 2, "beta": 2},
            took=("x", "y"),
        )
    with django_assert_num_queries(len(small)):
        outcomes.report(user=owner, data={})
