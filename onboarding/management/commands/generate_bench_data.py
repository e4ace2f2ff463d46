"""Bulk data for benchmarks: many hires, plans and assignments, inserted in batches.

Plans get their "mileage may vary" guidance and their hires' four check-ins from
the database triggers like any other plan; the rule-based guidance is computed
here from what was generated, so the data obeys the same invariants as data
entered by hand. Check-ins already due are completed with a manager rating per
competency of the hire's role profile (about 30 ratings per hire), growing over
the first 90 days and more on the competencies of completed courses.
"""

import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from onboarding import rollups
from onboarding.models import (
    Assignment,
    CheckIn,
    CompetencyRating,
    Course,
    DailyTotals,
    Guidance,
    NewHire,
    PlanGuidance,
    PlanProgress,
    RoleExpectation,
    RoleProfile,
    TrainingPlan,
    User,
)

BATCH = 2000
# Every table the command fills, directly or through the triggers.
FILLED = (
    User,
    Course,
    NewHire,
    TrainingPlan,
    Assignment,
    PlanGuidance,
    CheckIn,
    CompetencyRating,
    PlanProgress,
    DailyTotals,
)
STATUSES = [
    (Assignment.Status.ASSIGNED, 30),
    (Assignment.Status.SCHEDULED, 15),
    (Assignment.Status.IN_PROGRESS, 10),
    (Assignment.Status.COMPLETED, 40),
    (Assignment.Status.WAIVED, 5),
]


class Command(BaseCommand):
    help = "Generate hires, plans and assignments in bulk for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--hires", type=int, required=True)
        parser.add_argument("--assignments-per-hire", type=int, default=10)
        parser.add_argument("--managers", type=int, default=10)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, **options):
        hires, per_hire, managers = (
            options["hires"],
            options["assignments_per_hire"],
            options["managers"],
        )
        if hires < 0 or per_hire < 0 or managers < 1:
            raise CommandError("--hires and --assignments-per-hire must be >= 0, --managers >= 1.")
        rng = random.Random(options["seed"])
        started = timezone.now()
        with transaction.atomic():
            counts = generate(rng=rng, hires=hires, per_hire=per_hire, managers=managers)
        rollups.compact()
        analyze()
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"Created {counts['hires']} hires, {counts['plans']} plans, "
            f"{counts['assignments']} assignments and {counts['ratings']} check-in ratings "
            f"in {seconds:.1f} s."
        )


def analyze() -> None:
    """Refresh the planner's statistics of every table filled.

    A bulk load leaves them describing the tables as they were: a PostgreSQL server
    with autovacuum off then planned a sequential scan to find one hire's plan (the
    hire page took 543 ms until a manual ANALYZE), and SQLite plans without any.
    """
    with connection.cursor() as cursor:
        for model in FILLED:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _managers(count: int) -> list[User]:
    users = []
    for index in range(count):
        user, created = User.objects.get_or_create(
            username=f"bench-manager-{index}",
            defaults={"first_name": "Bench", "last_name": f"Manager {index}", "is_staff": True},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users.append(user)
    return users


def _courses(count: int) -> list[Course]:
    courses = list(Course.objects.filter(active=True).select_related("certification"))
    for index in range(len(courses), count):
        courses.append(
            Course.objects.create(
                title=f"Bench course {index}",
                provider="Bench Provider",
                delivery=Course.Delivery.SELF_PACED,
                tuition=Decimal("500.00"),
            )
        )
    return courses


def generate(*, rng: random.Random, hires: int, per_hire: int, managers: int) -> dict:
    today = timezone.localdate()
    manager_users = _managers(managers)
    courses = _courses(per_hire)
    profiles = list(RoleProfile.objects.all()) or [None]
    guidance_by_rule = {
        g.rule: g for g in Guidance.objects.filter(active=True).order_by("-position")
    }
    statuses, weights = zip(*STATUSES, strict=True)
    offset = NewHire.objects.filter(email__startswith="bench-").count()
    counts = {"hires": 0, "plans": 0, "assignments": 0, "ratings": 0}
    expected = _expectations()
    targets = dict.fromkeys((c.pk for c in courses), ())
    for course_id, competency_id in Course.competencies.through.objects.filter(
        course__in=courses
    ).values_list("course_id", "competency_id"):
        targets[course_id] = (*targets[course_id], competency_id)

    for batch_start in range(0, hires, BATCH):
        batch_size = min(BATCH, hires - batch_start)
        new_hires = NewHire.objects.bulk_create(
            [
                NewHire(
                    full_name=f"Bench Hire {offset + batch_start + i}",
                    email=f"bench-{offset + batch_start + i}@example.com",
                    role_profile=rng.choice(profiles),
                    hiring_manager=rng.choice(manager_users),
                    start_date=today + datetime.timedelta(days=rng.randint(-400, 60)),
                    new_to_product_management=rng.random() < 0.3,
                )
                for i in range(batch_size)
            ]
        )
        plans = TrainingPlan.objects.bulk_create(
            [
                TrainingPlan(hire=hire, title="Onboarding plan", owner=hire.hiring_manager)
                for hire in new_hires
            ]
        )
        assignments, attachments = [], []
        for hire, plan in zip(new_hires, plans, strict=True):
            rules = set()
            if hire.new_to_product_management:
                rules.add(Guidance.Rule.NEW_TO_PM)
            for position, course in enumerate(rng.sample(courses, min(per_hire, len(courses)))):
                status = rng.choices(statuses, weights)[0]
                due = hire.start_date + datetime.timedelta(days=7 + 14 * position)
                completed_on = None
                if status == Assignment.Status.COMPLETED:
                    completed_on = min(due, today)
                paid_by = rng.choice(list(Assignment.PaidBy.values))
                tuition = None if paid_by == Assignment.PaidBy.FREE else course.tuition
                if course.certification_id:
                    rules.add(Guidance.Rule.CERTIFICATION_COURSE)
                    if course.certification.framework_bound:
                        rules.add(Guidance.Rule.FRAMEWORK_CERTIFICATION)
                if paid_by == Assignment.PaidBy.EMPLOYER and tuition:
                    rules.add(Guidance.Rule.EMPLOYER_PAID)
                assignments.append(
                    Assignment(
                        plan=plan,
                        course=course,
                        due_date=due,
                        scheduled_for=due - datetime.timedelta(days=3)
                        if status == Assignment.Status.SCHEDULED
                        else None,
                        status=status,
                        completed_on=completed_on,
                        tuition_cost=tuition,
                        paid_by=paid_by,
                        position=position,
                    )
                )
            attachments += [
                PlanGuidance(
                    plan=plan, guidance=guidance_by_rule[rule], body=guidance_by_rule[rule].body
                )
                for rule in rules
                if rule in guidance_by_rule
            ]
        Assignment.objects.bulk_create(assignments, batch_size=BATCH)
        PlanGuidance.objects.bulk_create(attachments, batch_size=BATCH)
        counts["ratings"] += _rate_check_ins(
            rng=rng,
            hires=new_hires,
            assignments=assignments,
            expected=expected,
            targets=targets,
            today=today,
        )
        counts["hires"] += len(new_hires)
        counts["plans"] += len(plans)
        counts["assignments"] += len(assignments)
    return counts


def _expectations() -> dict[int | None, list[tuple[int, int]]]:
    """role profile id -> [(competency id, expected level)]."""
    found: dict[int | None, list[tuple[int, int]]] = {}
    for profile_id, competency_id, level in RoleExpectation.objects.values_list(
        "role_profile_id", "competency_id", "expected_level"
    ):
        found.setdefault(profile_id, []).append((competency_id, level))
    return found


def _rate_check_ins(
    *,
    rng: random.Random,
    hires: list[NewHire],
    assignments: list[Assignment],
    expected: dict,
    targets: dict,
    today: datetime.date,
) -> int:
    """Complete the check-ins that are due (the trigger made them) and rate them."""
    boosted: dict[int, set[int]] = {}
    for assignment in assignments:
        if assignment.status == Assignment.Status.COMPLETED:
            boosted.setdefault(assignment.plan.hire_id, set()).update(
                targets.get(assignment.course_id, ())
            )
    by_hire = {hire.pk: hire for hire in hires}
    progress = {"baseline": 0.0, "day_30": 0.34, "day_60": 0.67, "day_90": 1.0}
    due = list(CheckIn.objects.filter(hire__in=hires, due_date__lte=today))
    ratings = []
    for check_in in due:
        hire = by_hire[check_in.hire_id]
        check_in.completed_at = timezone.make_aware(
            datetime.datetime.combine(check_in.due_date, datetime.time(12))
        )
        check_in.completed_by_id = hire.hiring_manager_id
        for competency_id, level in expected.get(hire.role_profile_id, []):
            start = max(1, level - rng.choice((1, 1, 2)))
            bonus = 1.0 if competency_id in boosted.get(hire.pk, ()) else 0.0
            grown = start + progress[check_in.kind] * (0.75 + bonus) + rng.random() * 0.4
            ratings.append(
                CompetencyRating(
                    check_in=check_in,
                    competency_id=competency_id,
                    manager_level=max(1, min(4, round(grown))),
                )
            )
    CheckIn.objects.bulk_update(due, ["completed_at", "completed_by"], batch_size=BATCH)
    CompetencyRating.objects.bulk_create(ratings, batch_size=BATCH)
    return len(ratings)
