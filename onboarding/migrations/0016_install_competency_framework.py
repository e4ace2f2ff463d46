"""Install the starter competency framework and give the role groups the ramp's permissions.

Eight competencies with level descriptors, what each shipped role profile
expects by day 90, and which shipped courses build which competencies
(onboarding/framework.py). Runs once; the organisation's later edits are kept.

Hiring managers record check-ins and ratings for their own hires and read the
framework; people ops edit the framework too.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGER = [
    *(f"{action}_{model}" for model in ("checkin", "competencyrating") for action in ("view", "add", "change")),
    "view_competency",
    "view_roleexpectation",
]
PEOPLE_OPS = [
    *MANAGER,
    *(f"{action}_{model}" for model in ("competency", "roleexpectation") for action in ("add", "change")),
    "delete_roleexpectation",
]
GROUPS = {"Hiring managers": MANAGER, "People ops": PEOPLE_OPS}


def install(apps, schema_editor):
    from onboarding.framework import framework_install

    framework_install(
        Competency=apps.get_model("onboarding", "Competency"),
        RoleExpectation=apps.get_model("onboarding", "RoleExpectation"),
        RoleProfile=apps.get_model("onboarding", "RoleProfile"),
        Course=apps.get_model("onboarding", "Course"),
    )

    onboarding = apps.get_app_config("onboarding")
    onboarding.models_module = True
    create_permissions(onboarding, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    onboarding.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="onboarding", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0015_competencies_and_check_ins")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
