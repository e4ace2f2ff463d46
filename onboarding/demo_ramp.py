"""Demo ramp data: check-ins in a believable state, and last year's cohort for the outcome report.

Every demo hire's check-ins that are due are completed with ratings; a hire whose
training is overdue also has an overdue check-in. Ratings start a little below
what the role expects and grow over the first 90 days, and grow more on the
competencies of some courses than of others (`COURSE_EFFECT`), so the outcome
report has something to show.

`PAST_COHORT` are 24 hires who started 100 to 330 days ago and finished their
onboarding (archived): half took the "New to product management" template
(Pragmatic Foundations and Focus), half the "Experienced" one, in two role
profiles, so Foundations and Focus have enough hires on both sides to show a
number, and other courses show "too few to tell". Everything is written through
the services, as a manager would.
"""

from __future__ import annotations

import datetime
import zlib

from . import services
from .models import (
    Assignment,
    Certification,
    NewHire,
    PlanTemplate,
    RoleProfile,
    User,
)
from .rules import LEVELS, CheckInKind
from .selectors import check_in_competencies, competencies_for

# Extra levels by day 90 on the competencies a completed course targets, by course title.
COURSE_EFFECT = {
    "Foundations": 1.0,
    "Customer discovery interviews": 0.5,
    "Working with our engineering teams": 0.5,
    "Focus": 0.25,
}
GROWTH_BY_DAY_90 = 0.75  # what anyone gains in their first 90 days here
PAST_FIRST_NAMES = [
    "Aiko",
    "Brennan",
    "Camila",
    "Dario",
    "Efua",
    "Felix",
    "Greta",
    "Hamid",
    "Ines",
    "Jonas",
    "Kavya",
    "Luca",
    "Marisol",
    "Nikolai",
    "Oona",
    "Pavel",
    "Quinn",
    "Rosa",
    "Soren",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
]
PAST_LAST_NAMES = [
    "Abara",
    "Berg",
    "Cruz",
    "Dahl",
    "Eze",
    "Fischer",
    "Gupta",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowal",
    "Lindqvist",
    "Moreau",
    "Nair",
    "Ortiz",
    "Petrov",
    "Quist",
    "Rossi",
    "Sato",
    "Tanaka",
    "Uddin",
    "Varga",
    "Wu",
    "Zeller",
]
PAST_EMAIL_DOMAIN = "example.com"


def _seed(text: str) -> int:
    return zlib.crc32(text.encode())


def _level(expected: int | None, start_offset: int, kind: str, bonus: float, person: int) -> int:
    """A manager's believable rating: a level or two under the expectation at the start,
    growing over 90 days, faster on competencies a completed course targeted."""
    target = expected or 2
    baseline = max(LEVELS[0], target - 1 - person % 2)
    progress = {"baseline": 0.0, "day_30": 0.34, "day_60": 0.67, "day_90": 1.0}[kind]
    level = baseline + progress * (GROWTH_BY_DAY_90 + bonus) + (start_offset % 3) * 0.1
    return max(LEVELS[0], min(LEVELS[-1], round(level)))


def rate_due_check_ins(
    hire: NewHire, *, manager: User, today: datetime.date, leave_latest_open: bool = False
) -> None:
    """Complete the hire's check-ins that are due, with ratings that grow with training."""
    completed_titles = set(
        Assignment.objects.filter(plan__hire=hire, status=Assignment.Status.COMPLETED).values_list(
            "course__title", flat=True
        )
    )
    targets: dict[int, float] = {}
    for title in completed_titles:
        effect = COURSE_EFFECT.get(title, 0.0)
        for competency_id in Assignment.objects.filter(
            plan__hire=hire, course__title=title
        ).values_list("course__competencies", flat=True):
            if competency_id is not None:
                targets[competency_id] = targets.get(competency_id, 0.0) + effect
    expected = {competency.pk: level for competency, level in competencies_for(hire)}
    due = [c for c in hire.check_ins.order_by("due_date") if c.due_date <= today]
    if leave_latest_open and due:
        due = due[:-1]
    person = _seed(hire.email)
    for check_in in due:
        ratings = {
            competency.pk: (
                _level(
                    expected.get(competency.pk),
                    (hire.start_date - today).days,
                    check_in.kind,
                    min(targets.get(competency.pk, 0.0), 1.5),
                    person + competency.pk,
                ),
                "",
            )
            for competency in check_in_competencies(check_in)
        }
        services.check_in_record(
            actor=manager,
            check_in=check_in,
            ratings=ratings,
            summary=_summary(check_in.kind),
            complete=True,
            completed_on=check_in.due_date,
        )


def _summary(kind: str) -> str:
    return {
        CheckInKind.BASELINE: "Where they start against what this role needs here.",
        CheckInKind.DAY_30: "Settling in; learning how we plan and decide.",
        CheckInKind.DAY_60: "Owning their area; still leaning on the team for the numbers.",
        CheckInKind.DAY_90: "Ready for most of the role; we agreed what to grow next.",
    }[kind]


def seed_past_cohort(*, managers: dict[str, User], today: datetime.date) -> int:
    """Last year's hires, onboarded and archived; returns how many were created."""
    profiles = {
        "generalist": RoleProfile.objects.filter(name="Generalist product manager").first(),
        "tech": RoleProfile.objects.filter(name="Technical product manager (APM-style)").first(),
    }
    templates = {
        "new": PlanTemplate.objects.filter(name="New to product management").first(),
        "experienced": PlanTemplate.objects.filter(name="Experienced product manager").first(),
    }
    if None in profiles.values() or None in templates.values():
        return 0  # the organisation changed the shipped catalog: nothing to build on
    pmc = Certification.objects.filter(abbreviation="PMC").first()
    created = 0
    for n, (first, last) in enumerate(zip(PAST_FIRST_NAMES, PAST_LAST_NAMES, strict=True)):
        email = f"{first}.{last}@{PAST_EMAIL_DOMAIN}".lower()
        if NewHire.objects.filter(email__iexact=email).exists():
            continue
        manager = managers["maria" if n % 2 else "devon"]
        start = today - datetime.timedelta(days=100 + 10 * n)
        new_to_pm = n % 4 < 2
        hire = services.hire_create(
            actor=manager,
            full_name=f"{first} {last}",
            email=email,
            hiring_manager=manager,
            start_date=start,
            role_profile=profiles["generalist" if n % 8 < 4 else "tech"],
            new_to_product_management=new_to_pm,
            previous_role="" if new_to_pm else "Product manager elsewhere",
            notes="Last year's cohort (demo).",
        )
        if pmc is not None and not new_to_pm and n % 4 != 3:
            services.held_certification_create(
                actor=manager,
                hire=hire,
                certification=pmc,
                earned_on=start - datetime.timedelta(days=400),
            )
        plan = services.plan_create(
            actor=manager, hire=hire, template=templates["new" if new_to_pm else "experienced"]
        )
        for assignment in plan.assignments.all():
            services.assignment_complete(
                actor=manager, assignment=assignment, completed_on=min(assignment.due_date, today)
            )
        rate_due_check_ins(hire, manager=manager, today=today)
        services.hire_archive(actor=manager, hire=hire)
        created += 1
    return created
