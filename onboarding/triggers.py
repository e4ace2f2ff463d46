"""The project's database triggers, defined once, installed from code.

Four invariants hold however a row is written (services, the admin, imports,
`bulk_create`, a shell, raw SQL), so they live in the database:

* every training plan carries the guidance whose rule is "always" ("mileage may
  vary") from the moment it exists;
* a hire has their four ramp check-ins (baseline, day 30, 60, 90) from the moment
  they have a plan, due that many days after the start date; moving the start
  date moves the open ones;
* PlanProgress holds one row of counts per plan;
* DailyTotals holds, per (manager, archived, day, currency), what the dashboard
  sums over date ranges;
* DataVersion's token changes with every committed change of the tables the
  dashboard's cached figures come from (WATCHED_TABLES; caching.py reads it).

What counts as open, unscheduled or spent comes from rules.py; the same SELECTs
serve the triggers of both databases and the set-based recount (`rebuild`).

Why installed from code rather than by migrations: SQLite rebuilds a table for
most schema changes (copy, drop, rename), and a trigger that names the table
breaks that rebuild. So `migrate` takes the triggers off before it runs the
app's migrations and puts them back afterwards (`before_migrate`,
`after_migrate`, connected in apps.py), recounting the rollups and attaching any
guidance a plan missed meanwhile, in one transaction. Any ordinary migration
(AlterField, AddField, RemoveField, AddConstraint, ...) on these tables then runs
on SQLite and PostgreSQL without hand-work, and a database migrated long ago ends
with exactly the triggers of one migrated today. Installing is idempotent: when
the database already has these definitions, nothing is touched.

On PostgreSQL the triggers run once per statement over transition tables (a
bulk insert stays one grouped write), and the progress refresh takes the plans'
progress rows' locks before counting, so two transactions changing one plan
cannot each count without the other's change. SQLite has one writer at a time
and row triggers only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import connection as default_connection
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .rules import (
    CHECK_IN_OFFSET_DAYS,
    CLOSED_STATUSES,
    UNSCHEDULED_STATUS,
    UNSPENT_STATUS,
    AssignmentStatus,
    sql_check_in_offset,
    sql_is_open,
    sql_is_status,
)

PREFIX = "onboarding_"
ALWAYS_RULE = "always"  # Guidance.Rule.ALWAYS
EMPLOYER, HIRE = "employer", "hire"  # Assignment.PaidBy
COMPLETED, WAIVED = AssignmentStatus.COMPLETED, AssignmentStatus.WAIVED
assert set(CLOSED_STATUSES) == {COMPLETED, WAIVED}, "completed_count/waived_count need revisiting"


@dataclass(frozen=True)
class DbObject:
    """One trigger (or, on PostgreSQL, one trigger function) and the SQL that creates it."""

    kind: str  # "trigger" or "function"
    name: str
    table: str  # for triggers
    sql: str
    args: str = ""  # for functions: the argument types

    @property
    def target(self) -> str:
        """How COMMENT ON names it (PostgreSQL)."""
        if self.kind == "function":
            return f"FUNCTION {self.name}({self.args})"
        return f"TRIGGER {self.name} ON {self.table}"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


# --- plan guidance: every plan carries the "always" guidance --------------------------------

GUIDANCE_COLUMNS = "plan_id, guidance_id, body, manager_note, attached_at"


def _always_guidance(plan_id: str, source: str, now: str) -> str:
    """Attach the "always" guidance to the plans of `source` (a FROM list naming guidance g)."""
    return (
        f"INSERT INTO onboarding_planguidance ({GUIDANCE_COLUMNS}) "
        f"SELECT {plan_id}, g.id, g.body, '', {now} FROM {source} "
        f"WHERE g.rule = '{ALWAYS_RULE}'"
    )


NOW = {"sqlite": "strftime('%Y-%m-%d %H:%M:%f', 'now')", "postgresql": "now()"}


# --- check-ins: four per hire with a plan ---------------------------------------------------

CHECK_IN_COLUMNS = "hire_id, kind, due_date, summary, version"
CHECK_IN_KINDS = " UNION ALL ".join(
    f"SELECT '{kind}' AS kind, {days} AS days" for kind, days in CHECK_IN_OFFSET_DAYS.items()
)


def _plus_days(vendor: str, date: str, days: str) -> str:
    if vendor == "sqlite":
        return f"date({date}, '+' || ({days}) || ' days')"
    return f"({date} + ({days}))"


def _check_ins_for(vendor: str, hires: str) -> str:
    """Insert the missing check-ins of the hires whose id is in `hires` (a subquery)."""
    return (
        f"INSERT INTO onboarding_checkin ({CHECK_IN_COLUMNS}) "
        f"SELECT h.id, k.kind, {_plus_days(vendor, 'h.start_date', 'k.days')}, '', 1 "
        f"FROM onboarding_newhire h CROSS JOIN ({CHECK_IN_KINDS}) k "
        f"WHERE h.id IN ({hires}) AND NOT EXISTS (SELECT 1 FROM onboarding_checkin c "
        "WHERE c.hire_id = h.id AND c.kind = k.kind) ORDER BY h.id, k.days"
    )


def _open_check_ins_follow(vendor: str, start: str, where: str, source: str = "") -> str:
    """Move the open check-ins to `start` plus their offsets (`source`: a FROM clause)."""
    due = _plus_days(vendor, start, sql_check_in_offset("onboarding_checkin.kind"))
    return (
        f"UPDATE onboarding_checkin SET due_date = {due} {source} "
        f"WHERE onboarding_checkin.completed_at IS NULL AND {where}"
    )


# --- plan progress ---------------------------------------------------------------------------

PROGRESS_COLUMNS = (
    "plan_id, hire_id, hiring_manager_id, hire_start_date, hire_archived, "
    "total_count, completed_count, waived_count, next_open_due, "
    "next_unscheduled_due, undiscussed_guidance_count"
)
PROGRESS_UPSERT = ", ".join(
    f"{column} = excluded.{column}" for column in PROGRESS_COLUMNS.split(", ")[1:]
)


def progress_select(match: str) -> str:
    """The progress rows of the plans whose id matches `match` ("= NEW.plan_id", ...)."""
    return f"""
    SELECT p.id, h.id, h.hiring_manager_id, h.start_date, h.archived_at IS NOT NULL,
           COALESCE(a.total, 0), COALESCE(a.completed, 0), COALESCE(a.waived, 0),
           a.next_open_due, a.next_unscheduled_due, COALESCE(g.undiscussed, 0)
    FROM onboarding_trainingplan p
    JOIN onboarding_newhire h ON h.id = p.hire_id
    LEFT JOIN (
        SELECT plan_id,
               COUNT(*) AS total,
               COUNT(CASE WHEN {sql_is_status("status", COMPLETED)} THEN 1 END) AS completed,
               COUNT(CASE WHEN {sql_is_status("status", WAIVED)} THEN 1 END) AS waived,
               MIN(CASE WHEN {sql_is_open("status")} THEN due_date END) AS next_open_due,
               MIN(CASE WHEN {sql_is_status("status", UNSCHEDULED_STATUS)} THEN due_date END)
                   AS next_unscheduled_due
        FROM onboarding_assignment
        WHERE plan_id {match}
        GROUP BY plan_id
    ) a ON a.plan_id = p.id
    LEFT JOIN (
        SELECT plan_id, COUNT(*) AS undiscussed
        FROM onboarding_planguidance
        WHERE acknowledged_at IS NULL AND plan_id {match}
        GROUP BY plan_id
    ) g ON g.plan_id = p.id
    WHERE p.id {match}
    """


def progress_upsert(match: str, order: str = "") -> str:
    return (
        f"INSERT INTO onboarding_planprogress ({PROGRESS_COLUMNS}) {progress_select(match)} "
        f"{order} ON CONFLICT (plan_id) DO UPDATE SET {PROGRESS_UPSERT}"
    )


# --- daily totals ----------------------------------------------------------------------------

TOTALS_KEY = "hiring_manager_id, hire_archived, day, currency"
TOTALS_VALUES = ("open_due_count", "employer_tuition_cents", "hire_tuition_cents", "sessions_count")


@dataclass(frozen=True)
class Key:
    """Where the rest of an assignment's DailyTotals key comes from, in one source."""

    manager: str
    archived: str
    currency: str


# The assignment's current hire and course, joined as h and c.
CURRENT = Key("h.hiring_manager_id", "h.archived_at IS NOT NULL", "c.currency")


def _shares_on(day: str, sign: int, r: str, key: Key, source: str) -> str:
    """Upsert `sign` times the shares of assignments `r` in the rows of their `day` column.

    `source` is a FROM ... WHERE clause that reaches the assignments (alias `r`)
    and whatever `key` reads. Only constant fragments of this module are
    interpolated.
    """
    spent = f"{r}.status <> '{UNSPENT_STATUS}'"
    if day == "due_date":
        tuition = (
            f"SUM(CASE WHEN {spent} AND {r}.paid_by = '{{payer}}' "
            f"THEN CAST(ROUND(COALESCE({r}.tuition_cost, 0) * 100) AS BIGINT) ELSE 0 END)"
        )
        values = [
            f"SUM(CASE WHEN {sql_is_open(f'{r}.status')} THEN 1 ELSE 0 END)",
            tuition.format(payer=EMPLOYER),
            tuition.format(payer=HIRE),
            "0",
        ]
    else:
        values = ["0", "0", "0", f"SUM(CASE WHEN {spent} THEN 1 ELSE 0 END)"]
        source = f"{source} AND {r}.scheduled_for IS NOT NULL"
    signed = ", ".join(f"{sign} * {value}" for value in values)
    updates = ", ".join(
        f"{column} = onboarding_dailytotals.{column} + excluded.{column}"
        for column in TOTALS_VALUES
    )
    group = f"{key.manager}, {key.archived}, {r}.{day}, {key.currency}"
    return f"""
    INSERT INTO onboarding_dailytotals ({TOTALS_KEY}, {", ".join(TOTALS_VALUES)})
    SELECT {group}, {signed}
    {source}
    GROUP BY {group}
    ORDER BY 1, 2, 3, 4
    ON CONFLICT ({TOTALS_KEY}) DO UPDATE SET {updates}
    """


def shares(sign: int, r: str, key: Key, source: str) -> list[str]:
    """Both rows an assignment adds to: its due date's and its session date's."""
    return [_shares_on(day, sign, r, key, source) for day in ("due_date", "scheduled_for")]


def _hire_and_course(r: str) -> str:
    return (
        f"JOIN onboarding_trainingplan p ON p.id = {r}.plan_id "
        f"JOIN onboarding_newhire h ON h.id = p.hire_id "
        f"JOIN onboarding_course c ON c.id = {r}.course_id"
    )


# --- the data version ------------------------------------------------------------------------

# Every table whose rows the cached pages (caching.py) show or are scoped by. The
# rollup tables are left out: only these tables' triggers and `rebuild` write them.
WATCHED_TABLES = {
    "user": "onboarding_user",
    "user_groups": "onboarding_user_groups",
    "user_permissions": "onboarding_user_user_permissions",
    "group_permissions": "auth_group_permissions",
    "role_profile": "onboarding_roleprofile",
    "hire": "onboarding_newhire",
    "certification": "onboarding_certification",
    "held_certification": "onboarding_heldcertification",
    "course": "onboarding_course",
    "course_competencies": "onboarding_course_competencies",
    "template": "onboarding_plantemplate",
    "plan": "onboarding_trainingplan",
    "assignment": "onboarding_assignment",
    "guidance": "onboarding_guidance",
    "plan_guidance": "onboarding_planguidance",
    "competency": "onboarding_competency",
    "expectation": "onboarding_roleexpectation",
    "check_in": "onboarding_checkin",
    "rating": "onboarding_competencyrating",
    "evidence": "onboarding_evidence",
    "feedback": "onboarding_coursefeedback",
    "hire_import": "onboarding_hireimport",
}
NEW_TOKEN = {
    "sqlite": "random()",
    # random() has 52 random bits, plenty for a token that only has to differ.
    "postgresql": "floor(random() * 4503599627370496)::bigint",
}
# A PostgreSQL transaction that changed watched rows and has not committed yet.
CHANGED_SETTING = "onboarding.data_changed"


def new_data_version_sql(vendor: str) -> str:
    return f"UPDATE onboarding_dataversion SET token = {NEW_TOKEN[vendor]} WHERE id = 1"


def ensure_data_version(connection: BaseDatabaseWrapper = default_connection) -> None:
    """The one DataVersion row exists (a flush empties the table)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO onboarding_dataversion (id, token) SELECT 1, 0 WHERE NOT EXISTS "
            "(SELECT 1 FROM onboarding_dataversion WHERE id = 1)"
        )


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_trigger(name: str, event: str, table: str, body: list[str], when: str = "") -> DbObject:
    condition = f" WHEN {when}" if when else ""
    statements = "; ".join(" ".join(statement.split()) for statement in body)
    sql = (
        f"CREATE TRIGGER {PREFIX}{name} AFTER {event} ON {table} FOR EACH ROW{condition} "
        f"BEGIN {statements}; END"
    )
    return DbObject("trigger", f"{PREFIX}{name}", table, sql)


def sqlite_objects() -> list[DbObject]:
    # One writer at a time on SQLite: the token's row lock costs nobody a wait.
    objects = [
        _sqlite_trigger(
            f"data_version_{short}_{event.lower()}", event, table, [new_data_version_sql("sqlite")]
        )
        for short, table in WATCHED_TABLES.items()
        for event in ("INSERT", "UPDATE", "DELETE")
    ]
    objects += [
        _sqlite_trigger(
            "plan_carries_always_guidance",
            "INSERT",
            "onboarding_trainingplan",
            [_always_guidance("NEW.id", "onboarding_guidance g", NOW["sqlite"])],
        ),
        _sqlite_trigger(
            "plan_brings_check_ins",
            "INSERT",
            "onboarding_trainingplan",
            [_check_ins_for("sqlite", "NEW.hire_id")],
        ),
        _sqlite_trigger(
            "check_ins_follow_start_date",
            "UPDATE OF start_date",
            "onboarding_newhire",
            [
                _open_check_ins_follow(
                    "sqlite", "NEW.start_date", "onboarding_checkin.hire_id = NEW.id"
                )
            ],
            when="OLD.start_date <> NEW.start_date",
        ),
    ]

    # Progress: recount the touched plans.
    for short, table in (
        ("assignment", "onboarding_assignment"),
        ("guidance", "onboarding_planguidance"),
    ):
        objects += [
            _sqlite_trigger(
                f"progress_{short}_insert", "INSERT", table, [progress_upsert("= NEW.plan_id")]
            ),
            _sqlite_trigger(
                f"progress_{short}_delete", "DELETE", table, [progress_upsert("= OLD.plan_id")]
            ),
            _sqlite_trigger(
                f"progress_{short}_update", "UPDATE", table, [progress_upsert("= OLD.plan_id")]
            ),
            _sqlite_trigger(
                f"progress_{short}_moved",
                "UPDATE",
                table,
                [progress_upsert("= NEW.plan_id")],
                when="NEW.plan_id <> OLD.plan_id",
            ),
        ]
    objects += [
        _sqlite_trigger(
            "progress_plan_insert",
            "INSERT",
            "onboarding_trainingplan",
            [progress_upsert("= NEW.id")],
        ),
        _sqlite_trigger(
            "progress_plan_delete",
            "DELETE",
            "onboarding_trainingplan",
            ["DELETE FROM onboarding_planprogress WHERE plan_id = OLD.id"],
        ),
        _sqlite_trigger(
            "progress_plan_update",
            "UPDATE OF hire_id",
            "onboarding_trainingplan",
            [progress_upsert("= NEW.id")],
        ),
        _sqlite_trigger(
            "progress_hire_update",
            "UPDATE OF hiring_manager_id, start_date, archived_at",
            "onboarding_newhire",
            [progress_upsert("IN (SELECT id FROM onboarding_trainingplan WHERE hire_id = NEW.id)")],
        ),
    ]

    # Daily totals: add the new row's shares, take away the old row's.
    def one(alias: str) -> str:
        # A row trigger sees the assignment as NEW/OLD; a one-row FROM makes it a source.
        return (
            "FROM onboarding_trainingplan p JOIN onboarding_newhire h ON h.id = p.hire_id "
            f"JOIN onboarding_course c ON c.id = {alias}.course_id WHERE p.id = {alias}.plan_id"
        )

    of_hire = (
        "FROM onboarding_assignment a JOIN onboarding_trainingplan p ON p.id = a.plan_id "
        "JOIN onboarding_course c ON c.id = a.course_id WHERE p.hire_id = NEW.id"
    )
    of_plan = (
        "FROM onboarding_assignment a JOIN onboarding_course c ON c.id = a.course_id "
        "WHERE a.plan_id = NEW.id"
    )
    of_course = f"FROM onboarding_assignment a {_hire_and_course('a')} WHERE a.course_id = NEW.id"
    hire_of = "(SELECT {col} FROM onboarding_newhire WHERE id = {side}.hire_id)"

    def plan_key(side: str) -> Key:
        return Key(
            hire_of.format(col="hiring_manager_id", side=side),
            hire_of.format(col="archived_at IS NOT NULL", side=side),
            "c.currency",
        )

    objects += [
        _sqlite_trigger(
            "totals_assignment_insert",
            "INSERT",
            "onboarding_assignment",
            shares(1, "NEW", CURRENT, one("NEW")),
        ),
        _sqlite_trigger(
            "totals_assignment_delete",
            "DELETE",
            "onboarding_assignment",
            shares(-1, "OLD", CURRENT, one("OLD")),
        ),
        _sqlite_trigger(
            "totals_assignment_update",
            "UPDATE OF plan_id, course_id, due_date, scheduled_for, status, paid_by, tuition_cost",
            "onboarding_assignment",
            [*shares(-1, "OLD", CURRENT, one("OLD")), *shares(1, "NEW", CURRENT, one("NEW"))],
        ),
        _sqlite_trigger(
            "totals_hire_update",
            "UPDATE OF hiring_manager_id, archived_at",
            "onboarding_newhire",
            [
                *shares(
                    -1,
                    "a",
                    Key("OLD.hiring_manager_id", "OLD.archived_at IS NOT NULL", "c.currency"),
                    of_hire,
                ),
                *shares(
                    1,
                    "a",
                    Key("NEW.hiring_manager_id", "NEW.archived_at IS NOT NULL", "c.currency"),
                    of_hire,
                ),
            ],
            when="OLD.hiring_manager_id <> NEW.hiring_manager_id "
            "OR (OLD.archived_at IS NULL) <> (NEW.archived_at IS NULL)",
        ),
        _sqlite_trigger(
            "totals_plan_update",
            "UPDATE OF hire_id",
            "onboarding_trainingplan",
            [*shares(-1, "a", plan_key("OLD"), of_plan), *shares(1, "a", plan_key("NEW"), of_plan)],
            when="OLD.hire_id <> NEW.hire_id",
        ),
        _sqlite_trigger(
            "totals_course_update",
            "UPDATE OF currency",
            "onboarding_course",
            [
                *shares(-1, "a", Key(CURRENT.manager, CURRENT.archived, "OLD.currency"), of_course),
                *shares(1, "a", Key(CURRENT.manager, CURRENT.archived, "NEW.currency"), of_course),
            ],
            when="OLD.currency <> NEW.currency",
        ),
    ]
    return objects


# --- PostgreSQL ------------------------------------------------------------------------------

_TRANSITION = {
    "INSERT": "NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _pg_function(
    name: str, body: list[str], returns: str = "trigger", args: tuple[str, str] | None = None
) -> DbObject:
    statements = ";\n".join(body)
    final = "\n    RETURN NULL;" if returns == "trigger" else ""
    parameters = f"{args[0]} {args[1]}" if args else ""
    sql = (
        f"CREATE FUNCTION {PREFIX}{name}({parameters}) RETURNS {returns} AS $$\nBEGIN\n"
        f"    {statements};{final}\nEND;\n$$ LANGUAGE plpgsql"
    )
    return DbObject("function", f"{PREFIX}{name}", "", sql, args=args[1] if args else "")


def _pg_trigger(name: str, event: str, table: str, function: str) -> DbObject:
    sql = (
        f"CREATE TRIGGER {PREFIX}{name} AFTER {event} ON {table} "
        f"REFERENCING {_TRANSITION[event]} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {PREFIX}{function}()"
    )
    return DbObject("trigger", f"{PREFIX}{name}", table, sql)


def postgres_objects() -> list[DbObject]:
    def refresh(plans: str) -> str:
        return f"PERFORM {PREFIX}plan_progress_refresh(ARRAY({plans}))"

    def assignments(rows: str) -> str:
        return f"FROM {rows} r {_hire_and_course('r')} WHERE true"

    moved_hires = (
        "FROM old_rows o JOIN new_rows n ON n.id = o.id "
        "JOIN onboarding_trainingplan p ON p.hire_id = o.id "
        "JOIN onboarding_assignment a ON a.plan_id = p.id "
        "JOIN onboarding_course c ON c.id = a.course_id "
        "WHERE (o.hiring_manager_id, o.archived_at IS NULL) "
        "IS DISTINCT FROM (n.hiring_manager_id, n.archived_at IS NULL)"
    )
    moved_plans = (
        "FROM old_rows o JOIN new_rows n ON n.id = o.id AND n.hire_id <> o.hire_id "
        "JOIN onboarding_newhire oh ON oh.id = o.hire_id "
        "JOIN onboarding_newhire nh ON nh.id = n.hire_id "
        "JOIN onboarding_assignment a ON a.plan_id = o.id "
        "JOIN onboarding_course c ON c.id = a.course_id WHERE true"
    )
    currency_changed = (
        "FROM old_rows o JOIN new_rows n ON n.id = o.id AND n.currency <> o.currency "
        "JOIN onboarding_assignment a ON a.course_id = o.id "
        "JOIN onboarding_trainingplan p ON p.id = a.plan_id "
        "JOIN onboarding_newhire h ON h.id = p.hire_id WHERE true"
    )
    objects = [
        _pg_function(
            "plan_carries_always_guidance",
            [
                _always_guidance(
                    "p.id", "new_rows p CROSS JOIN onboarding_guidance g", NOW["postgresql"]
                )
                + " ORDER BY p.id, g.id"
            ],
        ),
        _pg_trigger(
            "plan_carries_always_guidance",
            "INSERT",
            "onboarding_trainingplan",
            "plan_carries_always_guidance",
        ),
        _pg_function(
            "plan_brings_check_ins",
            [_check_ins_for("postgresql", "SELECT hire_id FROM new_rows")],
        ),
        _pg_trigger(
            "plan_brings_check_ins", "INSERT", "onboarding_trainingplan", "plan_brings_check_ins"
        ),
        _pg_function(
            "check_ins_follow_start_date",
            [
                _open_check_ins_follow(
                    "postgresql",
                    "n.start_date",
                    "onboarding_checkin.hire_id = n.id AND n.start_date <> o.start_date",
                    source="FROM new_rows n JOIN old_rows o ON o.id = n.id",
                )
            ],
        ),
        _pg_trigger(
            "check_ins_follow_start_date",
            "UPDATE",
            "onboarding_newhire",
            "check_ins_follow_start_date",
        ),
        _pg_function(
            "plan_progress_refresh",
            [
                # Wait for any other transaction changing these plans, then count with
                # a fresh snapshot that includes its committed change.
                "PERFORM 1 FROM onboarding_planprogress WHERE plan_id = ANY(plan_ids) "
                "ORDER BY plan_id FOR UPDATE",
                progress_upsert("= ANY(plan_ids)", order="ORDER BY p.id"),
            ],
            returns="void",
            args=("plan_ids", "bigint[]"),
        ),
    ]
    for name, key in (("assignment", "plan_id"), ("guidance", "plan_id"), ("plan", "id")):
        objects.append(
            _pg_function(
                f"progress_{name}_changed",
                [
                    "IF TG_OP = 'INSERT' THEN "
                    + refresh(f"SELECT DISTINCT {key} FROM new_rows")
                    + "; ELSIF TG_OP = 'DELETE' THEN "
                    + refresh(f"SELECT DISTINCT {key} FROM old_rows")
                    + "; ELSE "
                    + refresh(f"SELECT {key} FROM old_rows UNION SELECT {key} FROM new_rows")
                    + "; END IF",
                ],
            )
        )
    objects += [
        _pg_function(
            "progress_plan_deleted",
            ["DELETE FROM onboarding_planprogress WHERE plan_id IN (SELECT id FROM old_rows)"],
        ),
        # Only plans moved to another hire: editing a title recounts nothing.
        _pg_function(
            "progress_plan_moved",
            [
                refresh(
                    "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
                    "WHERE n.hire_id <> o.hire_id"
                )
            ],
        ),
        # Only hires whose copied columns changed: editing notes recounts nothing.
        _pg_function(
            "progress_hire_changed",
            [
                refresh(
                    "SELECT p.id FROM onboarding_trainingplan p "
                    "JOIN new_rows h ON h.id = p.hire_id JOIN old_rows o ON o.id = h.id "
                    "WHERE (h.hiring_manager_id, h.start_date, h.archived_at IS NULL) "
                    "IS DISTINCT FROM (o.hiring_manager_id, o.start_date, o.archived_at IS NULL)"
                )
            ],
        ),
    ]
    for short, table in (
        ("assignment", "onboarding_assignment"),
        ("guidance", "onboarding_planguidance"),
    ):
        for event in ("INSERT", "UPDATE", "DELETE"):
            objects.append(
                _pg_trigger(
                    f"progress_{short}_{event.lower()}", event, table, f"progress_{short}_changed"
                )
            )
    objects += [
        _pg_trigger(
            "progress_plan_insert", "INSERT", "onboarding_trainingplan", "progress_plan_changed"
        ),
        _pg_trigger(
            "progress_plan_delete", "DELETE", "onboarding_trainingplan", "progress_plan_deleted"
        ),
        _pg_trigger(
            "progress_plan_update", "UPDATE", "onboarding_trainingplan", "progress_plan_moved"
        ),
        _pg_trigger(
            "progress_hire_update", "UPDATE", "onboarding_newhire", "progress_hire_changed"
        ),
    ]

    totals = {
        "assignment_insert": shares(1, "r", CURRENT, assignments("new_rows")),
        "assignment_delete": shares(-1, "r", CURRENT, assignments("old_rows")),
        "assignment_update": [
            *shares(-1, "r", CURRENT, assignments("old_rows")),
            *shares(1, "r", CURRENT, assignments("new_rows")),
        ],
        "hire_update": [
            *shares(
                -1,
                "a",
                Key("o.hiring_manager_id", "o.archived_at IS NOT NULL", "c.currency"),
                moved_hires,
            ),
            *shares(
                1,
                "a",
                Key("n.hiring_manager_id", "n.archived_at IS NOT NULL", "c.currency"),
                moved_hires,
            ),
        ],
        "plan_update": [
            *shares(
                -1,
                "a",
                Key("oh.hiring_manager_id", "oh.archived_at IS NOT NULL", "c.currency"),
                moved_plans,
            ),
            *shares(
                1,
                "a",
                Key("nh.hiring_manager_id", "nh.archived_at IS NOT NULL", "c.currency"),
                moved_plans,
            ),
        ],
        "course_update": [
            *shares(
                -1, "a", Key(CURRENT.manager, CURRENT.archived, "o.currency"), currency_changed
            ),
            *shares(1, "a", Key(CURRENT.manager, CURRENT.archived, "n.currency"), currency_changed),
        ],
    }
    tables = {
        "assignment": "onboarding_assignment",
        "hire": "onboarding_newhire",
        "plan": "onboarding_trainingplan",
        "course": "onboarding_course",
    }
    for name, body in totals.items():
        source, event = name.split("_")
        objects.append(_pg_function(f"totals_{name}", body))
        objects.append(
            _pg_trigger(f"totals_{name}", event.upper(), tables[source], f"totals_{name}")
        )
    return objects + _pg_data_version_objects()


def _pg_data_version_objects() -> list[DbObject]:
    """A statement on a watched table notes the change once per transaction (a DataChange
    row); the note's deferred trigger changes the token at commit. Taking the token's
    row lock at the first write would queue every writer behind the longest
    transaction (an import) until it commits."""
    objects = [
        _pg_function(
            "data_changed",
            [
                f"IF current_setting('{CHANGED_SETTING}', true) IS DISTINCT FROM 'yes' THEN\n"
                f"        PERFORM set_config('{CHANGED_SETTING}', 'yes', true);\n"
                "        INSERT INTO onboarding_datachange DEFAULT VALUES;\n"
                "    END IF",
            ],
        ),
        _pg_function(
            "data_version_change",
            [
                new_data_version_sql("postgresql"),
                "DELETE FROM onboarding_datachange WHERE id = NEW.id",
                f"PERFORM set_config('{CHANGED_SETTING}', '', true)",
            ],
        ),
        DbObject(
            "trigger",
            f"{PREFIX}data_version_change",
            "onboarding_datachange",
            f"CREATE CONSTRAINT TRIGGER {PREFIX}data_version_change AFTER INSERT "
            "ON onboarding_datachange DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"EXECUTE FUNCTION {PREFIX}data_version_change()",
        ),
    ]
    objects += [
        DbObject(
            "trigger",
            f"{PREFIX}data_version_{short}",
            table,
            f"CREATE TRIGGER {PREFIX}data_version_{short} "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}data_changed()",
        )
        for short, table in WATCHED_TABLES.items()
    ]
    return objects


def objects_for(connection: BaseDatabaseWrapper) -> list[DbObject]:
    if connection.vendor == "sqlite":
        return sqlite_objects()
    if connection.vendor == "postgresql":
        return postgres_objects()
    raise NotImplementedError(
        f"The onboarding triggers support SQLite and PostgreSQL, not {connection.vendor}."
    )


# --- what the database has -------------------------------------------------------------------


def installed(connection: BaseDatabaseWrapper = default_connection) -> dict[str, str]:
    """The project's triggers (and functions) in the database: identity -> fingerprint or SQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [PREFIX + "%"],
            )
            return {f"trigger:{name}": sql for name, sql in cursor.fetchall()}
        cursor.execute(
            """
            SELECT 'trigger:' || t.tgname, COALESCE(obj_description(t.oid, 'pg_trigger'), '')
            FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal AND t.tgname LIKE %s
              AND c.relnamespace = current_schema()::regnamespace
            UNION ALL
            SELECT 'function:' || p.proname, COALESCE(obj_description(p.oid, 'pg_proc'), '')
            FROM pg_proc p
            WHERE p.proname LIKE %s AND p.pronamespace = current_schema()::regnamespace
            """,
            [PREFIX + "%", PREFIX + "%"],
        )
        return dict(cursor.fetchall())


def expected(connection: BaseDatabaseWrapper = default_connection) -> dict[str, str]:
    """What `installed()` reads once this module's definitions are in place."""
    if connection.vendor == "sqlite":
        return {f"trigger:{o.name}": o.sql for o in objects_for(connection)}
    return {f"{o.kind}:{o.name}": o.fingerprint for o in objects_for(connection)}


def is_current(connection: BaseDatabaseWrapper = default_connection) -> bool:
    return installed(connection) == expected(connection)


def uninstall(connection: BaseDatabaseWrapper = default_connection) -> None:
    """Drop every trigger and trigger function of the project, whichever version made it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [PREFIX + "%"],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            return
        cursor.execute(
            """
            SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.proname LIKE %s AND p.pronamespace = current_schema()::regnamespace
            """,
            [PREFIX + "%"],
        )
        # CASCADE takes the triggers that execute them along.
        for (signature,) in cursor.fetchall():
            cursor.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")


def install(connection: BaseDatabaseWrapper = default_connection) -> bool:
    """Put this module's triggers in place, unless they already are. True if anything changed.

    Everything is dropped and created again in one transaction, so no write
    sees a half-installed set.
    """
    if is_current(connection):
        return False
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        uninstall(connection)
        for obj in objects_for(connection):
            cursor.execute(obj.sql)
            if connection.vendor == "postgresql":
                # The fingerprint tells the next install() whether this definition is current.
                cursor.execute(f"COMMENT ON {obj.target} IS '{obj.fingerprint}'")
    return True


# --- recounting --------------------------------------------------------------------------------


def rebuild(connection: BaseDatabaseWrapper = default_connection) -> None:
    """Recount both rollup tables from their source rows, set-based, with the triggers' SQL.

    On PostgreSQL, writers wait (their triggers need the rollup tables) until the
    recount is in; their triggers then add to it.
    """
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "LOCK TABLE onboarding_planprogress, onboarding_dailytotals IN EXCLUSIVE MODE"
            )
        cursor.execute("DELETE FROM onboarding_planprogress")
        cursor.execute(
            f"INSERT INTO onboarding_planprogress ({PROGRESS_COLUMNS}) "
            f"{progress_select('IS NOT NULL')}"
        )
        cursor.execute("DELETE FROM onboarding_dailytotals")
        every = f"FROM onboarding_assignment r {_hire_and_course('r')} WHERE true"
        for statement in shares(1, "r", CURRENT, every):
            cursor.execute(statement)
        # The rollup tables are not watched; figures cached from the old counts go.
        cursor.execute(new_data_version_sql(connection.vendor))


def attach_missing_guidance(connection: BaseDatabaseWrapper = default_connection) -> int:
    """Give every plan the "always" guidance it lacks (written while the triggers were off)."""
    source = "onboarding_trainingplan p CROSS JOIN onboarding_guidance g"
    with connection.cursor() as cursor:
        cursor.execute(
            _always_guidance("p.id", source, NOW[connection.vendor])
            + " AND NOT EXISTS (SELECT 1 FROM onboarding_planguidance pg "
            "WHERE pg.plan_id = p.id AND pg.guidance_id = g.id)"
        )
        return cursor.rowcount


def add_missing_check_ins(connection: BaseDatabaseWrapper = default_connection) -> None:
    """Every hire with a plan gets the check-ins it lacks; open ones follow the start date."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(
            _check_ins_for(vendor, "SELECT DISTINCT hire_id FROM onboarding_trainingplan")
        )
        start = (
            "(SELECT h.start_date FROM onboarding_newhire h "
            "WHERE h.id = onboarding_checkin.hire_id)"
        )
        cursor.execute(_open_check_ins_follow(vendor, start, "1 = 1"))


def repair(connection: BaseDatabaseWrapper = default_connection) -> None:
    """What the triggers would have done while they were off, for every row at once."""
    with transaction.atomic(using=connection.alias):
        attach_missing_guidance(connection)
        add_missing_check_ins(connection)
        rebuild(connection)


# --- around `migrate` ------------------------------------------------------------------------


def _app_fully_migrated(connection: BaseDatabaseWrapper, app_label: str) -> bool:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    leaves = loader.graph.leaf_nodes(app_label)
    return bool(leaves) and all(leaf in loader.applied_migrations for leaf in leaves)


def before_migrate(sender, *, using: str, plan=None, verbosity: int = 1, **kwargs) -> None:
    """pre_migrate: take the triggers off while this app's migrations run.

    SQLite rebuilds a table for most schema changes, and a trigger naming it
    breaks the rebuild; on PostgreSQL a migration could otherwise write through
    a trigger that still reads a column it is about to drop.
    """
    from django.db import connections

    if not any(migration.app_label == sender.label for migration, _ in plan or []):
        return
    connection = connections[using]
    if installed(connection):
        uninstall(connection)
        if verbosity >= 1:
            print("  Onboarding triggers taken off for the migration; they come back after it.")


def after_migrate(sender, *, using: str, verbosity: int = 1, **kwargs) -> None:
    """post_migrate (also sent after a flush): install the triggers if they are not current.

    When anything had to be installed, the triggers were off for a while, so the
    rollups are recounted and missing guidance attached, in the same transaction.
    """
    from django.db import connections

    connection = connections[using]
    if not _app_fully_migrated(connection, sender.label):
        if verbosity >= 1:
            print("  Onboarding triggers not installed: the app's migrations are not all applied.")
        return
    with transaction.atomic(using=using):
        ensure_data_version(connection)
        if install(connection):
            repair(connection)
            if verbosity >= 1:
                print("  Onboarding triggers installed; rollups recounted.")
