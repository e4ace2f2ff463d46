"""Take off the triggers that migrations 0003, 0008, 0009 and 0011 created.

From here on the triggers are defined once, in onboarding/triggers.py, and
installed after every `migrate` (apps.py connects it to post_migrate). Left in
place, these older copies would break any later migration that rebuilds one of
their tables on SQLite ("no such table: main.onboarding_newhire"), and a database
migrated before this change would keep whichever version of them it was
migrated with. Every trigger and trigger function whose name starts with
"onboarding_" goes, whatever version made it.

Reversing puts back the set that 0011 left, from those migrations' own code.
"""

import importlib

from django.db import migrations

PATTERN = "onboarding\\_%"


def drop_all(apps, schema_editor):
    cursor = schema_editor.connection.cursor()
    if schema_editor.connection.vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s ESCAPE '\\'",
            [PATTERN],
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    else:
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "WHERE p.proname LIKE %s AND p.pronamespace = current_schema()::regnamespace",
            [PATTERN],
        )
        for (signature,) in cursor.fetchall():
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")


def restore_0011(apps, schema_editor):
    drop_all(apps, schema_editor)
    vendor = schema_editor.connection.vendor

    def module(name):
        return importlib.import_module(f"onboarding.migrations.{name}")

    guidance = module("0003_plans_carry_always_guidance_trigger")
    progress = module("0008_plan_progress_rollup")
    totals = module("0009_daily_totals_rollup")
    if vendor == "sqlite":
        statements = [guidance.SQLITE_CREATE]
        statements += progress.sqlite_statements() + totals.sqlite_statements()
    else:
        statements = [module("0011_always_guidance_trigger_per_statement").PER_STATEMENT]
        statements += progress.postgres_statements() + totals.postgres_statements()
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0011_always_guidance_trigger_per_statement")]

    operations = [migrations.RunPython(drop_all, restore_0011)]
