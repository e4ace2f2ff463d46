"""Hire emails are stored lower-cased from now on (services.py normalises every write).

PostgreSQL's lower() folds every letter and SQLite's only A-Z, so the same
case-insensitive unique constraint let `x@éxample.com` and `X@ÉXAMPLE.COM` be
two hires on SQLite. Existing rows are lower-cased here; a row whose lower-cased
address another hire already has keeps its spelling (a person must choose).
"""

from django.db import migrations


def lowercase_emails(apps, schema_editor):
    NewHire = apps.get_model("onboarding", "NewHire")
    taken = set(NewHire.objects.values_list("email", flat=True))
    for hire in NewHire.objects.only("pk", "email").iterator():
        lowered = hire.email.strip().lower()
        if lowered != hire.email and lowered not in taken:
            NewHire.objects.filter(pk=hire.pk).update(email=lowered)
            taken.add(lowered)


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0019_catalog_and_plan_guidance_versions")]

    operations = [migrations.RunPython(lowercase_emails, migrations.RunPython.noop)]
