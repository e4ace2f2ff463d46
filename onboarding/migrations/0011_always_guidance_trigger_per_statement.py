"""On PostgreSQL, attach the "always" guidance once per INSERT statement, not per row.

Each guidance insert made by the row trigger of 0003 was a statement of its own,
so the plan progress trigger of 0008 ran once per plan: a bulk insert of 100,000
plans spent minutes in it. Per statement, over the transition table of inserted
plans, it is one insert and one progress refresh. The invariant is unchanged,
and SQLite (row triggers only) keeps 0003's trigger.
"""

from django.db import migrations

PER_STATEMENT = """
DROP TRIGGER IF EXISTS onboarding_plan_carries_always_guidance ON onboarding_trainingplan;
CREATE OR REPLACE FUNCTION onboarding_plan_carries_always_guidance() RETURNS trigger AS $$
BEGIN
    INSERT INTO onboarding_planguidance (plan_id, guidance_id, body, manager_note, attached_at)
    SELECT p.id, g.id, g.body, '', now()
    FROM new_rows p CROSS JOIN onboarding_guidance g
    WHERE g.rule = 'always'
    ORDER BY p.id, g.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER onboarding_plan_carries_always_guidance
AFTER INSERT ON onboarding_trainingplan
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION onboarding_plan_carries_always_guidance();
"""

# As migration 0003 created it.
PER_ROW = """
DROP TRIGGER IF EXISTS onboarding_plan_carries_always_guidance ON onboarding_trainingplan;
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


def per_statement(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PER_STATEMENT)


def per_row(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PER_ROW)


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0010_dashboard_covering_indexes")]

    operations = [migrations.RunPython(per_statement, per_row)]
