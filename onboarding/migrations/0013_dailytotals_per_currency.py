"""DailyTotals keeps each currency apart, so the dashboard never adds USD to EUR.

Existing rows get a placeholder currency; the triggers' install after this
migration recounts the table with each course's real currency.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0012_triggers_installed_from_code")]

    operations = [
        migrations.RemoveConstraint(model_name="dailytotals", name="dailytotals_one_row_per_key"),
        migrations.AddField(
            model_name="dailytotals",
            name="currency",
            field=models.CharField(
                default="USD", help_text="The currency of the courses' tuition.", max_length=3
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="dailytotals",
            constraint=models.UniqueConstraint(
                fields=("hiring_manager", "hire_archived", "day", "currency"),
                name="dailytotals_one_row_per_key_and_currency",
            ),
        ),
    ]
