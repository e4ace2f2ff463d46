"""Plan templates name the role profiles they suit; the shipped ones are linked to theirs.

A plan for a hire of a suited role profile starts from the template instead of a blank
plan. Links are added only where a template has none, so an organisation's own choices
stay as they are.
"""

from django.db import migrations, models


def link_shipped_templates(apps, schema_editor):
    from onboarding.catalog import catalog_link_templates

    catalog_link_templates(
        PlanTemplate=apps.get_model("onboarding", "PlanTemplate"),
        RoleProfile=apps.get_model("onboarding", "RoleProfile"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0022_user_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="plantemplate",
            name="suits_role_profiles",
            field=models.ManyToManyField(
                blank=True,
                help_text="A new plan for a hire of one of these role profiles starts from "
                "this template (the manager can still choose another).",
                related_name="suited_templates",
                to="onboarding.roleprofile",
                verbose_name="suits role profiles",
            ),
        ),
        migrations.RunPython(link_shipped_templates, migrations.RunPython.noop),
    ]
