"""People ops see every API token in the admin, and may revoke one (a leaked token).

Permissions are created here first: on a new database Django would only create them
after the last migration (as in 0014).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_apitoken", "change_apitoken"]


def grant(apps, schema_editor):
    onboarding = apps.get_app_config("onboarding")
    onboarding.models_module = True
    create_permissions(onboarding, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    onboarding.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="People ops").first()
    if group is not None:
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="onboarding", codename__in=CODENAMES)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="People ops").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="onboarding", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0024_api_token")]

    operations = [migrations.RunPython(grant, revoke)]
