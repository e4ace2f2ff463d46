"""Give the role groups the permissions of the hire's own view: invitations, evidence, feedback."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    "view_hireinvitation",
    "add_hireinvitation",
    "change_hireinvitation",
    "view_evidence",
    "change_evidence",
    "view_coursefeedback",
]
GROUPS = ("Hiring managers", "People ops")


def grant(apps, schema_editor):
    onboarding = apps.get_app_config("onboarding")
    onboarding.models_module = True
    create_permissions(onboarding, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    onboarding.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="onboarding", codename__in=CODENAMES
    )
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0017_hire_accounts_invitations_evidence_feedback")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
