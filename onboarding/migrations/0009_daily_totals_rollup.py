"""DailyTotals: per (manager, archived, day) what the dashboard sums over date ranges.

Assignments due that day: open ones, and non-waived tuition by payer. Sessions
booked that day (scheduled_for), not waived. An assignment adds to the row of its
due date and, when booked, to the row of its session date.

Kept by triggers, like PlanProgress (0008), but additively: each write adds the
new row's share and takes away the old row's, so a bulk insert of a million
assignments is one grouped upsert per statement on PostgreSQL, and concurrent
writers cannot lose each other's change (the upsert adds to the stored value
under its row lock). A hire whose manager or archived state changes, or a plan
moved to another hire, moves its assignments' shares to the new key.
`manage.py rebuild_rollups` recounts everything if ever needed.
"""

from django.conf import settings
from django.db import migrations, models

TABLE = "onboarding_dailytotals"
KEY = "hiring_manager_id, hire_archived, day"
VALUES = "open_due_count, employer_tuition_cents, hire_tuition_cents, sessions_count"


def _shares_on(day: str, sign: int, rows: str, manager: str, archived: str, source: str) -> str:
    """Upsert `sign` times the assignments' shares in the rows of their `day` column.

    `manager` and `archived` give the rest of the key; `source` is a FROM ... WHERE
    clause that joins the assignments (alias `rows`) to whatever supplies the key.
    Only constant fragments from this module are interpolated.
    """
    r = rows
    if day == "due_date":
        tuition = (
            f"SUM(CASE WHEN {r}.status <> 'waived' AND {r}.paid_by = '{{payer}}' "
            f"THEN CAST(ROUND(COALESCE({r}.tuition_cost, 0) * 100) AS BIGINT) ELSE 0 END)"
        )
        values = [
            f"SUM(CASE WHEN {r}.status NOT IN ('completed', 'waived') THEN 1 ELSE 0 END)",
            tuition.format(payer="employer"),
            tuition.format(payer="hire"),
            "0",
        ]
    else:
        values = ["0", "0", "0", f"SUM(CASE WHEN {r}.status <> 'waived' THEN 1 ELSE 0 END)"]
        source = f"{source} AND {r}.scheduled_for IS NOT NULL"
    signed = ", ".join(f"{sign} * {value}" for value in values)
    updates = ", ".join(
        f"{column} = {TABLE}.{column} + excluded.{column}" for column in VALUES.split(", ")
    )
    return f"""
    INSERT INTO {TABLE} ({KEY}, {VALUES})
    SELECT {manager}, {archived}, {r}.{day}, {signed}
    {source}
    GROUP BY {manager}, {archived}, {r}.{day}
    ORDER BY 1, 2, 3
    ON CONFLICT ({KEY}) DO UPDATE SET {updates}
    """


def share(sign: int, rows: str, manager: str, archived: str, source: str) -> list[str]:
    """Both rows an assignment adds to: its due date's and its session date's."""
    return [
        _shares_on(day, sign, rows, manager, archived, source)
        for day in ("due_date", "scheduled_for")
    ]


HIRE_OF_PLAN = (
    "JOIN onboarding_trainingplan p ON p.id = {r}.plan_id "
    "JOIN onboarding_newhire h ON h.id = p.hire_id"
)
CURRENT_KEY = ("h.hiring_manager_id", "h.archived_at IS NOT NULL")


def sqlite_statements() -> list[str]:
    def trigger(name: str, event: str, table: str, body: list[str], when: str = "") -> str:
        when = f"WHEN {when}" if when else ""
        statements = "; ".join(body)
        return (
            f"CREATE TRIGGER onboarding_totals_{name} AFTER {event} ON {table} "
            f"FOR EACH ROW {when} BEGIN {statements}; END;"
        )

    # A row trigger sees the assignment as NEW/OLD; a one-row FROM makes it a source.
    def row(alias: str) -> str:
        return (
            f"FROM onboarding_trainingplan p JOIN onboarding_newhire h ON h.id = p.hire_id "
            f"WHERE p.id = {alias}.plan_id"
        )

    # The assignments of one hire (or plan), keyed by the hire's old or new values.
    hire_rows = (
        "FROM onboarding_assignment a JOIN onboarding_trainingplan p ON p.id = a.plan_id "
        "WHERE p.hire_id = NEW.id"
    )
    plan_rows = "FROM onboarding_assignment a WHERE a.plan_id = NEW.id"
    old_hire = "(SELECT {col} FROM onboarding_newhire WHERE id = OLD.hire_id)"
    new_hire = "(SELECT {col} FROM onboarding_newhire WHERE id = NEW.hire_id)"
    return [
        trigger(
            "assignment_insert",
            "INSERT",
            "onboarding_assignment",
            share(1, "NEW", *CURRENT_KEY, row("NEW")),
        ),
        trigger(
            "assignment_delete",
            "DELETE",
            "onboarding_assignment",
            share(-1, "OLD", *CURRENT_KEY, row("OLD")),
        ),
        trigger(
            "assignment_update",
            "UPDATE OF plan_id, due_date, scheduled_for, status, paid_by, tuition_cost",
            "onboarding_assignment",
            [*share(-1, "OLD", *CURRENT_KEY, row("OLD")), *share(1, "NEW", *CURRENT_KEY, row("NEW"))],
        ),
        trigger(
            "hire_update",
            "UPDATE OF hiring_manager_id, archived_at",
            "onboarding_newhire",
            [
                *share(-1, "a", "OLD.hiring_manager_id", "OLD.archived_at IS NOT NULL", hire_rows),
                *share(1, "a", "NEW.hiring_manager_id", "NEW.archived_at IS NOT NULL", hire_rows),
            ],
            when="OLD.hiring_manager_id <> NEW.hiring_manager_id "
            "OR (OLD.archived_at IS NULL) <> (NEW.archived_at IS NULL)",
        ),
        trigger(
            "plan_update",
            "UPDATE OF hire_id",
            "onboarding_trainingplan",
            [
                *share(
                    -1,
                    "a",
                    old_hire.format(col="hiring_manager_id"),
                    old_hire.format(col="archived_at IS NOT NULL"),
                    plan_rows,
                ),
                *share(
                    1,
                    "a",
                    new_hire.format(col="hiring_manager_id"),
                    new_hire.format(col="archived_at IS NOT NULL"),
                    plan_rows,
                ),
            ],
            when="OLD.hire_id <> NEW.hire_id",
        ),
    ]


SQLITE_TRIGGERS = [
    "onboarding_totals_assignment_insert",
    "onboarding_totals_assignment_delete",
    "onboarding_totals_assignment_update",
    "onboarding_totals_hire_update",
    "onboarding_totals_plan_update",
]


def postgres_statements() -> list[str]:
    def function(name: str, body: list[str]) -> str:
        statements = ";\n".join(body)
        return f"""
        CREATE FUNCTION onboarding_totals_{name}() RETURNS trigger AS $$
        BEGIN
            {statements};
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """

    def trigger(name: str, event: str, table: str) -> str:
        tables = {
            "INSERT": "NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        return (
            f"CREATE TRIGGER onboarding_totals_{name} AFTER {event} ON {table} "
            f"REFERENCING {tables} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION onboarding_totals_{name}()"
        )

    def assignments(rows: str) -> str:
        return f"FROM {rows} r {HIRE_OF_PLAN.format(r='r')} WHERE true"

    # Hires (or plans) whose key changed, with their assignments.
    moved_hires = (
        "FROM old_rows o JOIN new_rows n ON n.id = o.id "
        "JOIN onboarding_trainingplan p ON p.hire_id = o.id "
        "JOIN onboarding_assignment a ON a.plan_id = p.id "
        "WHERE (o.hiring_manager_id, o.archived_at IS NULL) "
        "IS DISTINCT FROM (n.hiring_manager_id, n.archived_at IS NULL)"
    )
    moved_plans = (
        "FROM old_rows o JOIN new_rows n ON n.id = o.id AND n.hire_id <> o.hire_id "
        "JOIN onboarding_newhire oh ON oh.id = o.hire_id "
        "JOIN onboarding_newhire nh ON nh.id = n.hire_id "
        "JOIN onboarding_assignment a ON a.plan_id = o.id WHERE true"
    )
    return [
        function("assignment_insert", share(1, "r", *CURRENT_KEY, assignments("new_rows"))),
        function("assignment_delete", share(-1, "r", *CURRENT_KEY, assignments("old_rows"))),
        function(
            "assignment_update",
            [
                *share(-1, "r", *CURRENT_KEY, assignments("old_rows")),
                *share(1, "r", *CURRENT_KEY, assignments("new_rows")),
            ],
        ),
        function(
            "hire_update",
            [
                *share(-1, "a", "o.hiring_manager_id", "o.archived_at IS NOT NULL", moved_hires),
                *share(1, "a", "n.hiring_manager_id", "n.archived_at IS NOT NULL", moved_hires),
            ],
        ),
        function(
            "plan_update",
            [
                *share(-1, "a", "oh.hiring_manager_id", "oh.archived_at IS NOT NULL", moved_plans),
                *share(1, "a", "nh.hiring_manager_id", "nh.archived_at IS NOT NULL", moved_plans),
            ],
        ),
        trigger("assignment_insert", "INSERT", "onboarding_assignment"),
        trigger("assignment_delete", "DELETE", "onboarding_assignment"),
        trigger("assignment_update", "UPDATE", "onboarding_assignment"),
        trigger("hire_update", "UPDATE", "onboarding_newhire"),
        trigger("plan_update", "UPDATE", "onboarding_trainingplan"),
    ]


POSTGRES_DROP = [
    f"DROP FUNCTION IF EXISTS onboarding_totals_{name}() CASCADE"
    for name in (
        "assignment_insert",
        "assignment_delete",
        "assignment_update",
        "hire_update",
        "plan_update",
    )
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = sqlite_statements()
    elif vendor == "postgresql":
        statements = postgres_statements()
    else:
        raise NotImplementedError(f"No daily totals triggers for the {vendor} database.")
    # Backfill before the triggers exist: every assignment's share, in one pass.
    source = f"FROM onboarding_assignment r {HIRE_OF_PLAN.format(r='r')} WHERE true"
    for statement in share(1, "r", *CURRENT_KEY, source):
        schema_editor.execute(statement)
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for statement in POSTGRES_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0008_plan_progress_rollup"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyTotals",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hire_archived", models.BooleanField()),
                ("day", models.DateField()),
                (
                    "open_due_count",
                    models.IntegerField(
                        default=0, help_text="Assignments due that day, neither completed nor waived."
                    ),
                ),
                ("employer_tuition_cents", models.BigIntegerField(default=0)),
                ("hire_tuition_cents", models.BigIntegerField(default=0)),
                (
                    "sessions_count",
                    models.IntegerField(
                        default=0, help_text="Sessions booked for that day, not waived."
                    ),
                ),
                (
                    "hiring_manager",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "daily totals",
                "verbose_name_plural": "daily totals",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("hiring_manager", "hire_archived", "day"),
                        name="dailytotals_one_row_per_key",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
