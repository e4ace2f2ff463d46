"""Every training plan carries the guidance whose rule is "always".

A database trigger rather than application code, so that the invariant holds
however a plan is inserted: services, the admin, imports, bulk_create, a shell,
or raw SQL. The body is copied at insert time as the plan's snapshot.
"""

from django.db import migrations

SQLITE_CREATE = """
CREATE TRIGGER onboarding_plan_carries_always_guidance
AFTER INSERT ON onboarding_trainingplan
FOR EACH ROW
BEGIN
    INSERT INTO onboarding_planguidance (plan_id, guidance_id, body, manager_note, attached_at)
    SELECT NEW.id, g.id, g.body, '', strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM onboarding_guidance g
    WHERE g.rule = 'always';
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS onboarding_plan_carries_always_guidance;"

POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION onboarding_plan_carries_always_guidance() RETURNS trigger AS $$
BEGIN
    INSERT INTO onboarding_planguidance (plan_id, guidance_id, body, manager_note, attached_at)
    SELECT NEW.id, g.id, g.body, '', now()
    FROM onboarding_guidance g
    WHERE g.rule = 'always';
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER onboarding_plan_carries_always_guidance
AFTER INSERT ON onboarding_trainingplan
FOR EACH ROW EXECUTE FUNCTION onboarding_plan_carries_always_guidance();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS onboarding_plan_carries_always_guidance ON onboarding_trainingplan;
DROP FUNCTION IF EXISTS onboarding_plan_carries_always_guidance();
"""


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)
    else:
        raise NotImplementedError(f"No guidance trigger for the {vendor} database.")


def drop_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(SQLITE_DROP if vendor == "sqlite" else POSTGRES_DROP)


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0002_install_catalog")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
