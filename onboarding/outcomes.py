"""The outcome report: did the training move the ratings, course by course, at what tuition?

Read queries like selectors.py (functions of a user and filter values), in a
module of their own because they are written in SQL: each section is one
grouped query with common table expressions, over the hires the user may see
that the filters choose (`_population`, the FilterSet's own compiled query and
parameters). Everything else in the SQL text is a constant of this module or of
rules.py, never input.

The arithmetic, in words (README "Reading the outcome report"):

- a hire's change on a competency is their manager's level at the completed
  day-90 check-in minus the level at the completed baseline;
- a hire's change for a course is the average of their changes on the
  competencies the course targets (those they were rated on at both);
- "took it" are hires who completed the course; "comparable" are hires with the
  role profile of someone who took it, who did not complete it; each group's
  figure is the average over its hires;
- below rules.OUTCOME_MIN_GROUP hires in either group the report shows no number;
- the same for providers and certifications (any of their courses, the union of
  their competencies);
- tuition per hire is what was spent on completed assignments of the course
  (or group), divided by the hires who completed it, per currency;
- the certification lens compares the baseline ramp gap of hires who held a
  certification when they started with that of hires who did not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Avg, Count, QuerySet, Sum

from .filters import OutcomeFilterSet
from .models import Assignment, Certification, Course, CourseFeedback, NewHire, User
from .rules import (
    OUTCOME_MIN_GROUP,
    AssignmentStatus,
    CheckInKind,
    sql_level_gap,
    too_few_to_tell,
)
from .selectors import scoped

# Memory PostgreSQL may use for each sort or hash of the report's grouping query.
OUTCOMES_WORK_MEM = "64MB"

OUTCOME_GROUPS = {
    # group: (SQL key of a course, label)
    "course": ("c.id", "Course"),
    "provider": ("c.provider", "Provider"),
    "certification": ("c.certification_id", "Certification"),
}


@dataclass
class OutcomeRow:
    """One course (or provider, or certification): did its hires' ratings move more?"""

    group: str  # "course", "provider" or "certification"
    key: object
    name: str
    completed: int  # hires who completed it (or any course of the group)
    took: int  # of those, hires with baseline and day-90 ratings on its competencies
    took_change: float | None
    others: int  # comparable hires (same role profiles) who did not take it, rated
    others_change: float | None
    tuition_per_hire: list[tuple[str, Decimal]]  # (currency, amount), never added up
    competencies: list[str] = field(default_factory=list)
    usefulness: float | None = None  # hires' average 1-5 "useful here" in their feedback
    feedback_count: int = 0

    @property
    def too_few(self) -> bool:
        return too_few_to_tell(self.took, self.others)

    @property
    def difference(self) -> float | None:
        if self.too_few or self.took_change is None or self.others_change is None:
            return None
        return self.took_change - self.others_change


@dataclass
class LensRow:
    """One certification: baseline ramp gap of hires who held it at their start, and not."""

    certification: Certification
    held: int
    held_gap: float | None
    not_held: int
    not_held_gap: float | None

    @property
    def too_few(self) -> bool:
        return too_few_to_tell(self.held, self.not_held)


def filterset(data: Mapping | None, *, user: User | None) -> OutcomeFilterSet:
    return OutcomeFilterSet(data, queryset=scoped(NewHire, user), user=user)


def _population(filterset: OutcomeFilterSet) -> tuple[str, tuple]:
    """The SQL (and params) of the ids of the hires the report covers: scoped and filtered."""
    hires = filterset.qs if filterset.is_valid() else NewHire.objects.none()
    try:
        sql, params = hires.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (or invalid filters)
        return "SELECT id FROM onboarding_newhire WHERE 1 = 0", ()
    return sql, tuple(params)


def _changes_sql(population: str) -> str:
    """Per (hire, competency) rated at both: day-90 manager level minus the baseline's.

    A join of the two check-ins' ratings on the (check-in, competency) unique
    index: no grouping of every rating.
    """
    return f"""
        SELECT cb.hire_id, rb.competency_id, rd.manager_level - rb.manager_level AS delta
        FROM onboarding_checkin cb
        JOIN onboarding_competencyrating rb ON rb.check_in_id = cb.id
        JOIN onboarding_checkin cd
          ON cd.hire_id = cb.hire_id AND cd.kind = '{CheckInKind.DAY_90}'
         AND cd.completed_at IS NOT NULL
        JOIN onboarding_competencyrating rd
          ON rd.check_in_id = cd.id AND rd.competency_id = rb.competency_id
        WHERE cb.kind = '{CheckInKind.BASELINE}' AND cb.completed_at IS NOT NULL
          AND rb.manager_level IS NOT NULL AND rd.manager_level IS NOT NULL
          AND cb.hire_id IN ({population})
    """


# Each course belongs to three groups: itself, its provider and its certification (if any).
COURSE_GROUPS = """
    SELECT id AS course_id, 'course' AS grp, CAST(id AS VARCHAR(20)) AS group_key
    FROM onboarding_course
    UNION ALL
    SELECT id, 'provider', provider FROM onboarding_course
    UNION ALL
    SELECT id, 'certification', CAST(certification_id AS VARCHAR(20))
    FROM onboarding_course WHERE certification_id IS NOT NULL
"""


def _group_changes(population: str, params: tuple) -> dict:
    """Per (group, key): {1: (hires, average change) of those who took it, 0: of the others}.

    A hire's change is the average, over the group's competencies they were rated
    on at both the baseline and day 90, of day 90 minus baseline. Those who took
    it completed one of its courses; comparable others have the role profile of
    someone who took it and completed none of its courses. One query for the
    three groupings, so the rating changes are computed once.
    """
    completed = f"'{AssignmentStatus.COMPLETED}'"
    sql = f"""
        WITH changes AS MATERIALIZED ({_changes_sql(population)}),
        course_groups AS MATERIALIZED ({COURSE_GROUPS}),
        targets AS (
            SELECT DISTINCT g.grp, g.group_key, cc.competency_id
            FROM onboarding_course_competencies cc
            JOIN course_groups g ON g.course_id = cc.course_id
        ),
        took AS MATERIALIZED (
            SELECT DISTINCT g.grp, g.group_key, p.hire_id
            FROM onboarding_assignment a
            JOIN onboarding_trainingplan p ON p.id = a.plan_id
            JOIN course_groups g ON g.course_id = a.course_id
            WHERE a.status = {completed} AND p.hire_id IN ({population})
        ),
        per_hire AS (
            SELECT t.grp, t.group_key, ch.hire_id, AVG(ch.delta) AS delta
            FROM targets t JOIN changes ch ON ch.competency_id = t.competency_id
            GROUP BY t.grp, t.group_key, ch.hire_id
        ),
        profiles AS MATERIALIZED (
            SELECT DISTINCT took.grp, took.group_key, h.role_profile_id
            FROM took JOIN onboarding_newhire h ON h.id = took.hire_id
            WHERE h.role_profile_id IS NOT NULL
        )
        SELECT ph.grp, ph.group_key,
               CASE WHEN took.hire_id IS NULL THEN 0 ELSE 1 END AS took_it,
               COUNT(*), AVG(ph.delta)
        FROM per_hire ph
        JOIN onboarding_newhire h ON h.id = ph.hire_id
        LEFT JOIN took
          ON took.grp = ph.grp AND took.group_key = ph.group_key AND took.hire_id = ph.hire_id
        WHERE took.hire_id IS NOT NULL OR EXISTS (
            SELECT 1 FROM profiles pr
            WHERE pr.grp = ph.grp AND pr.group_key = ph.group_key
              AND pr.role_profile_id = h.role_profile_id
        )
        GROUP BY ph.grp, ph.group_key, CASE WHEN took.hire_id IS NULL THEN 0 ELSE 1 END
    """
    result: dict[tuple[str, str], dict[int, tuple[int, float]]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Grouping every rating change by course, provider and certification sorts
            # millions of rows; with the default 4 MB they spill to disk (24.7 s at
            # 100,000 hires against 6.4 s with this, measured with EXPLAIN ANALYZE).
            cursor.execute(f"SET LOCAL work_mem = '{OUTCOMES_WORK_MEM}'")
        cursor.execute(sql, params * 2)
        for grp, group_key, took_it, hires, change in cursor.fetchall():
            result.setdefault((grp, str(group_key)), {})[took_it] = (hires, float(change))
    return result


def _group_usefulness(group: str, hires: QuerySet) -> dict:
    """Per group key: (feedback count, average usefulness) of the hires' course feedback."""
    field = {
        "course": "assignment__course_id",
        "provider": "assignment__course__provider",
        "certification": "assignment__course__certification_id",
    }[group]
    rows = (
        CourseFeedback.objects.filter(assignment__plan__hire__in=hires)
        .values(field)
        .annotate(count=Count("pk"), average=Avg("usefulness"))
        .values_list(field, "count", "average")
        .order_by()
    )
    return {key: (count, float(average)) for key, count, average in rows}


def _group_spend(group: str, hires: QuerySet, providers: str) -> dict:
    """Per group key: hires who completed it and tuition per hire, per currency."""
    field = {
        "course": "course_id",
        "provider": "course__provider",
        "certification": ("course__certification_id"),
    }[group]
    rows = (
        Assignment.objects.filter(status=AssignmentStatus.COMPLETED, plan__hire__in=hires)
        .exclude(**{f"{field}__isnull": True})
        .filter(**({"course__provider__iexact": providers} if providers else {}))
        .values(field, "course__currency")
        .annotate(hires=Count("plan__hire", distinct=True), tuition=Sum("tuition_cost"))
        .order_by()
    )
    completers = dict(
        Assignment.objects.filter(status=AssignmentStatus.COMPLETED, plan__hire__in=hires)
        .exclude(**{f"{field}__isnull": True})
        .values(field)
        .annotate(hires=Count("plan__hire", distinct=True))
        .values_list(field, "hires")
    )
    spend: dict[object, list[tuple[str, Decimal]]] = {}
    for row in rows:
        if row["tuition"] is None:
            continue
        per_hire = Decimal(row["tuition"]) / completers[row[field]]
        spend.setdefault(row[field], []).append(
            (row["course__currency"], per_hire.quantize(Decimal("0.01")))
        )
    return {key: (completers[key], sorted(spend.get(key, []))) for key in completers}


def report(*, user: User | None, data: Mapping) -> dict:
    """The outcome report: per course, provider and certification, and the certification lens.

    Computed over the hires `user` may see that the filters choose, so a manager's
    report (group sizes included) covers only their own hires.
    """
    found = filterset(data, user=user)
    population, params = _population(found)
    hires = found.qs if found.is_valid() else NewHire.objects.none()
    provider = found.chosen_provider()
    courses = Course.objects.filter(competencies__isnull=False).distinct()
    if provider:
        courses = courses.filter(provider__iexact=provider)
    courses = list(courses.prefetch_related("competencies").order_by("provider", "title"))
    certification_ids = {c.certification_id for c in courses if c.certification_id}
    certifications = Certification.objects.in_bulk(certification_ids)

    changes = _group_changes(population, params)
    sections = {}
    for group in OUTCOME_GROUPS:
        spend = _group_spend(group, hires, provider)
        usefulness = _group_usefulness(group, hires)
        if group == "course":
            keys = [(c.pk, str(c), [x.name for x in c.competencies.all()]) for c in courses]
        elif group == "provider":
            names = sorted({c.provider for c in courses})
            keys = [(name, name, []) for name in names]
        else:
            keys = [
                (pk, str(certifications[pk]), [])
                for pk in sorted(certification_ids, key=lambda pk: str(certifications[pk]))
            ]
        rows = []
        for key, name, competencies in keys:
            measured = changes.get((group, str(key)), {})
            took = measured.get(1, (0, None))
            others = measured.get(0, (0, None))
            completed, tuition = spend.get(key, (0, []))
            feedback_count, average = usefulness.get(key, (0, None))
            rows.append(
                OutcomeRow(
                    group=group,
                    key=key,
                    name=name,
                    completed=completed,
                    took=took[0],
                    took_change=took[1],
                    others=others[0],
                    others_change=others[1],
                    tuition_per_hire=tuition,
                    competencies=competencies,
                    usefulness=average,
                    feedback_count=feedback_count,
                )
            )
        sections[group] = rows
    return {
        "filter": found,
        "courses": sections["course"],
        "providers": sections["provider"],
        "certifications": sections["certification"],
        "lens": certification_lens(population, params),
        "min_group": OUTCOME_MIN_GROUP,
        "hires": hires.count(),
    }


def certification_lens(population: str, params: tuple) -> list[LensRow]:
    """Per certification: the baseline ramp gap (rules.sql_level_gap summed over the role's
    expectations) of hires who held it when they started, against those who did not."""
    gap = sql_level_gap("e.expected_level", "r.manager_level")
    sql = f"""
        WITH baseline AS (
            SELECT ci.hire_id, h.start_date, SUM({gap}) AS gap
            FROM onboarding_checkin ci
            JOIN onboarding_newhire h ON h.id = ci.hire_id
            JOIN onboarding_roleexpectation e ON e.role_profile_id = h.role_profile_id
            JOIN onboarding_competencyrating r
              ON r.check_in_id = ci.id AND r.competency_id = e.competency_id
            WHERE ci.kind = '{CheckInKind.BASELINE}' AND ci.completed_at IS NOT NULL
              AND r.manager_level IS NOT NULL AND ci.hire_id IN ({population})
            GROUP BY ci.hire_id, h.start_date
        ),
        marked AS (
            SELECT c.id AS certification_id, b.gap,
                   CASE WHEN EXISTS (
                       SELECT 1 FROM onboarding_heldcertification hc
                       WHERE hc.hire_id = b.hire_id AND hc.certification_id = c.id
                         AND hc.earned_on <= b.start_date
                   ) THEN 1 ELSE 0 END AS held
            FROM onboarding_certification c CROSS JOIN baseline b
        )
        SELECT certification_id, held, COUNT(*), AVG(gap)
        FROM marked GROUP BY certification_id, held
    """
    found: dict[int, dict[int, tuple[int, float]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for certification_id, held, count, average in cursor.fetchall():
            found.setdefault(certification_id, {})[held] = (count, float(average))
    rows = []
    for certification in Certification.objects.order_by("issuer", "name"):
        held = found.get(certification.pk, {}).get(1, (0, None))
        not_held = found.get(certification.pk, {}).get(0, (0, None))
        rows.append(
            LensRow(
                certification=certification,
                held=held[0],
                held_gap=held[1],
                not_held=not_held[0],
                not_held_gap=not_held[1],
            )
        )
    return rows


def _change(value: float | None, too_few: bool) -> str | float:
    return "" if too_few or value is None else round(value, 2)


def report_rows(report: dict) -> list[list]:
    """The report as the rows of outcomes.csv (exports.COLUMN_HELP["outcomes"])."""
    rows = []
    for section in ("courses", "providers", "certifications"):
        for row in report[section]:
            rows.append(
                [
                    row.group,
                    row.name,
                    "; ".join(row.competencies),
                    row.completed,
                    row.took,
                    _change(row.took_change, row.too_few),
                    row.others,
                    _change(row.others_change, row.too_few),
                    row.too_few,
                    "; ".join(f"{currency} {amount}" for currency, amount in row.tuition_per_hire),
                    "" if row.usefulness is None else round(row.usefulness, 2),
                    row.feedback_count,
                ]
            )
    for lens in report["lens"]:
        rows.append(
            [
                "certification_lens",
                str(lens.certification),
                "",
                "",
                lens.held,
                _change(lens.held_gap, lens.too_few),
                lens.not_held,
                _change(lens.not_held_gap, lens.too_few),
                lens.too_few,
                "",
                "",
                "",
            ]
        )
    return rows
