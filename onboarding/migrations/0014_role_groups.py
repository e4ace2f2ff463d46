"""The two roles as groups, so a new production database can hand them out in the admin.

"Hiring managers" see and manage their own hires; "People ops" see and manage
every hire (view_all_hires) and look after the catalog and the guidance library.
Until now these permissions existed only in the demo data. Permissions are
created here first: on a new database Django would only create them after the
last migration.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

HIRE_MODELS = ("newhire", "trainingplan", "assignment", "heldcertification", "planguidance")
CATALOG_MODELS = ("course", "certification", "roleprofile", "plantemplate", "guidance")
MANAGER = [
    *(f"{action}_{model}" for model in HIRE_MODELS for action in ("view", "add", "change")),
    *(f"view_{model}" for model in CATALOG_MODELS),
]
PEOPLE_OPS = [
    *MANAGER,
    "view_all_hires",
    *(f"{action}_{model}" for model in CATALOG_MODELS for action in ("add", "change")),
    *(f"{action}_plantemplateitem" for action in ("view", "add", "change", "delete")),
    "view_digestdelivery",
]
GROUPS = {"Hiring managers": MANAGER, "People ops": PEOPLE_OPS}


def create_groups(apps, schema_editor):
    onboarding = apps.get_app_config("onboarding")
    onboarding.models_module = True
    create_permissions(onboarding, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    onboarding.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="onboarding", codename__in=codenames
        )
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0013_dailytotals_per_currency"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
