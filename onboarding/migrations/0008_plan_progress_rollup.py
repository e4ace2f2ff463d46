"""Per-plan progress rows (PlanProgress), kept current by database triggers.

Triggers rather than application code, for the reason migration 0003 gives: the
rows must be right however assignments, guidance or plans are written (services,
the admin, imports, bulk_create, a shell, raw SQL). Each trigger recomputes the
touched plans' rows from their assignments and guidance, in the same transaction
as the write, with one SELECT shared by both databases and the backfill.

On PostgreSQL the triggers run once per statement over the changed rows (bulk
inserts stay set-based) and lock the plans' progress rows before counting, so two
transactions changing the same plan cannot each count without the other's change.
SQLite has one writer at a time and row triggers only.
"""

from django.conf import settings
from django.db import migrations, models

COLUMNS = (
    "plan_id, hire_id, hiring_manager_id, hire_start_date, hire_archived, "
    "total_count, completed_count, waived_count, next_open_due, "
    "next_unscheduled_due, undiscussed_guidance_count"
)
UPSERT_SET = """
    hire_id = excluded.hire_id,
    hiring_manager_id = excluded.hiring_manager_id,
    hire_start_date = excluded.hire_start_date,
    hire_archived = excluded.hire_archived,
    total_count = excluded.total_count,
    completed_count = excluded.completed_count,
    waived_count = excluded.waived_count,
    next_open_due = excluded.next_open_due,
    next_unscheduled_due = excluded.next_unscheduled_due,
    undiscussed_guidance_count = excluded.undiscussed_guidance_count
"""


def progress_select(match: str) -> str:
    """The progress rows of the plans whose id matches `match` ("= NEW.plan_id", ...).

    Only constant fragments from this module are interpolated.

    Open means neither completed nor waived (querysets.open_q); "unscheduled" is
    the 'assigned' status that at_risk_q looks for.
    """
    return f"""
    SELECT p.id, h.id, h.hiring_manager_id, h.start_date, h.archived_at IS NOT NULL,
           COALESCE(a.total, 0), COALESCE(a.completed, 0), COALESCE(a.waived, 0),
           a.next_open_due, a.next_unscheduled_due, COALESCE(g.undiscussed, 0)
    FROM onboarding_trainingplan p
    JOIN onboarding_newhire h ON h.id = p.hire_id
    LEFT JOIN (
        SELECT plan_id,
               COUNT(*) AS total,
               COUNT(CASE WHEN status = 'completed' THEN 1 END) AS completed,
               COUNT(CASE WHEN status = 'waived' THEN 1 END) AS waived,
               MIN(CASE WHEN status NOT IN ('completed', 'waived') THEN due_date END)
                   AS next_open_due,
               MIN(CASE WHEN status = 'assigned' THEN due_date END) AS next_unscheduled_due
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


def upsert(match: str) -> str:
    return (
        f"INSERT INTO onboarding_planprogress ({COLUMNS}) {progress_select(match)} "
        f"ON CONFLICT (plan_id) DO UPDATE SET {UPSERT_SET}"
    )


def sqlite_statements() -> list[str]:
    def trigger(name: str, event: str, table: str, body: str, when: str = "") -> str:
        when = f"WHEN {when}" if when else ""
        return (
            f"CREATE TRIGGER onboarding_progress_{name} AFTER {event} ON {table} "
            f"FOR EACH ROW {when} BEGIN {body}; END;"
        )

    statements = []
    for short, table in (
        ("assignment", "onboarding_assignment"),
        ("guidance", "onboarding_planguidance"),
    ):
        statements += [
            trigger(f"{short}_insert", "INSERT", table, upsert("= NEW.plan_id")),
            trigger(f"{short}_delete", "DELETE", table, upsert("= OLD.plan_id")),
            trigger(f"{short}_update", "UPDATE", table, upsert("= OLD.plan_id")),
            trigger(
                f"{short}_moved",
                "UPDATE",
                table,
                upsert("= NEW.plan_id"),
                when="NEW.plan_id <> OLD.plan_id",
            ),
        ]
    statements += [
        trigger("plan_insert", "INSERT", "onboarding_trainingplan", upsert("= NEW.id")),
        trigger(
            "plan_delete",
            "DELETE",
            "onboarding_trainingplan",
            "DELETE FROM onboarding_planprogress WHERE plan_id = OLD.id",
        ),
        trigger("plan_update", "UPDATE OF hire_id", "onboarding_trainingplan", upsert("= NEW.id")),
        trigger(
            "hire_update",
            "UPDATE OF hiring_manager_id, start_date, archived_at",
            "onboarding_newhire",
            upsert("IN (SELECT id FROM onboarding_trainingplan WHERE hire_id = NEW.id)"),
        ),
    ]
    return statements


SQLITE_TRIGGERS = [
    f"onboarding_progress_{name}"
    for name in (
        "assignment_insert",
        "assignment_delete",
        "assignment_update",
        "assignment_moved",
        "guidance_insert",
        "guidance_delete",
        "guidance_update",
        "guidance_moved",
        "plan_insert",
        "plan_delete",
        "plan_update",
        "hire_update",
    )
]


def postgres_statements() -> list[str]:
    refresh = f"""
    CREATE FUNCTION onboarding_plan_progress_refresh(plan_ids bigint[]) RETURNS void AS $$
    BEGIN
        -- Wait for any other transaction changing these plans, then count with a
        -- fresh snapshot that includes its committed change.
        PERFORM 1 FROM onboarding_planprogress
        WHERE plan_id = ANY(plan_ids) ORDER BY plan_id FOR UPDATE;
        INSERT INTO onboarding_planprogress ({COLUMNS})
        {progress_select("= ANY(plan_ids)")}
        ORDER BY p.id
        ON CONFLICT (plan_id) DO UPDATE SET {UPSERT_SET};
    END;
    $$ LANGUAGE plpgsql;
    """
    # One function per table; old_rows/new_rows are the statement's transition tables.
    changed = """
    CREATE FUNCTION onboarding_progress_{name}_changed() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM onboarding_plan_progress_refresh(ARRAY(SELECT DISTINCT {key} FROM new_rows));
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM onboarding_plan_progress_refresh(ARRAY(SELECT DISTINCT {key} FROM old_rows));
        ELSE
            PERFORM onboarding_plan_progress_refresh(
                ARRAY(SELECT {key} FROM old_rows UNION SELECT {key} FROM new_rows));
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """
    plan_deleted = """
    CREATE FUNCTION onboarding_progress_plan_deleted() RETURNS trigger AS $$
    BEGIN
        DELETE FROM onboarding_planprogress WHERE plan_id IN (SELECT id FROM old_rows);
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """

    # Only plans moved to another hire: editing a title recounts nothing.
    plan_moved = """
    CREATE FUNCTION onboarding_progress_plan_moved() RETURNS trigger AS $$
    BEGIN
        PERFORM onboarding_plan_progress_refresh(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.hire_id <> o.hire_id
        ));
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """

    # Only hires whose copied columns changed: editing notes recounts nothing.
    hire_changed = """
    CREATE FUNCTION onboarding_progress_hire_changed() RETURNS trigger AS $$
    BEGIN
        PERFORM onboarding_plan_progress_refresh(ARRAY(
            SELECT p.id FROM onboarding_trainingplan p
            JOIN new_rows h ON h.id = p.hire_id
            JOIN old_rows o ON o.id = h.id
            WHERE (h.hiring_manager_id, h.start_date, h.archived_at IS NULL)
               IS DISTINCT FROM (o.hiring_manager_id, o.start_date, o.archived_at IS NULL)
        ));
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """

    def trigger(name: str, event: str, table: str, function: str) -> str:
        tables = {
            "INSERT": "NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        return (
            f"CREATE TRIGGER onboarding_progress_{name} AFTER {event} ON {table} "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )

    statements = [
        refresh,
        changed.format(name="assignment", key="plan_id"),
        changed.format(name="guidance", key="plan_id"),
        changed.format(name="plan", key="id"),
        plan_deleted,
        plan_moved,
        hire_changed,
    ]
    for short, table in (
        ("assignment", "onboarding_assignment"),
        ("guidance", "onboarding_planguidance"),
    ):
        for event in ("INSERT", "UPDATE", "DELETE"):
            statements.append(
                trigger(
                    f"{short}_{event.lower()}", event, table, f"onboarding_progress_{short}_changed"
                )
            )
    statements += [
        trigger(
            "plan_insert", "INSERT", "onboarding_trainingplan", "onboarding_progress_plan_changed"
        ),
        trigger(
            "plan_delete", "DELETE", "onboarding_trainingplan", "onboarding_progress_plan_deleted"
        ),
        trigger(
            "plan_update", "UPDATE", "onboarding_trainingplan", "onboarding_progress_plan_moved"
        ),
        trigger("hire_update", "UPDATE", "onboarding_newhire", "onboarding_progress_hire_changed"),
    ]
    return statements


POSTGRES_DROP = [
    "DROP FUNCTION IF EXISTS onboarding_progress_assignment_changed() CASCADE",
    "DROP FUNCTION IF EXISTS onboarding_progress_guidance_changed() CASCADE",
    "DROP FUNCTION IF EXISTS onboarding_progress_plan_changed() CASCADE",
    "DROP FUNCTION IF EXISTS onboarding_progress_plan_deleted() CASCADE",
    "DROP FUNCTION IF EXISTS onboarding_progress_plan_moved() CASCADE",
    "DROP FUNCTION IF EXISTS onboarding_progress_hire_changed() CASCADE",
    "DROP FUNCTION IF EXISTS onboarding_plan_progress_refresh(bigint[])",
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = sqlite_statements()
    elif vendor == "postgresql":
        statements = postgres_statements()
    else:
        raise NotImplementedError(f"No plan progress triggers for the {vendor} database.")
    # Backfill before the triggers exist: one set-based pass over every plan.
    schema_editor.execute(
        f"INSERT INTO onboarding_planprogress ({COLUMNS}) {progress_select('IS NOT NULL')}"
    )
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
        ("onboarding", "0007_newhire_active_list_order_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PlanProgress",
            fields=[
                (
                    "plan",
                    models.OneToOneField(
                        on_delete=models.DO_NOTHING,
                        primary_key=True,
                        related_name="rollup",
                        serialize=False,
                        to="onboarding.trainingplan",
                    ),
                ),
                (
                    "hire",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to="onboarding.newhire",
                    ),
                ),
                (
                    "hiring_manager",
                    models.ForeignKey(
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("hire_start_date", models.DateField()),
                ("hire_archived", models.BooleanField()),
                ("total_count", models.PositiveIntegerField(default=0)),
                ("completed_count", models.PositiveIntegerField(default=0)),
                ("waived_count", models.PositiveIntegerField(default=0)),
                (
                    "next_open_due",
                    models.DateField(
                        blank=True, help_text="Earliest due date of an open assignment.", null=True
                    ),
                ),
                (
                    "next_unscheduled_due",
                    models.DateField(
                        blank=True,
                        help_text="Earliest due date of an assignment still 'assigned'.",
                        null=True,
                    ),
                ),
                ("undiscussed_guidance_count", models.PositiveIntegerField(default=0)),
            ],
            options={"verbose_name": "plan progress", "verbose_name_plural": "plan progress"},
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
