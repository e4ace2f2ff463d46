"""Install the catalog and guidance library that ship with the product.

Runs once; later edits and deactivations made by the organisation are kept.
"""

from django.db import migrations


def install(apps, schema_editor):
    from onboarding.catalog import catalog_install

    catalog_install(
        RoleProfile=apps.get_model("onboarding", "RoleProfile"),
        Certification=apps.get_model("onboarding", "Certification"),
        Course=apps.get_model("onboarding", "Course"),
        PlanTemplate=apps.get_model("onboarding", "PlanTemplate"),
        PlanTemplateItem=apps.get_model("onboarding", "PlanTemplateItem"),
        Guidance=apps.get_model("onboarding", "Guidance"),
    )


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0001_domain_models")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
