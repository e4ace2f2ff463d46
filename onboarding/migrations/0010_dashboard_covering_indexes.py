"""Indexes chosen from EXPLAIN for the dashboard: the cohort chart and the overdue filter."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('onboarding', '0009_daily_totals_rollup'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='planprogress',
            index=models.Index(condition=models.Q(('hire_archived', False)), fields=['hire_start_date', 'hire', 'total_count', 'completed_count', 'waived_count'], name='planprogress_active_cohort'),
        ),
        migrations.AddIndex(
            model_name="planprogress",
            index=models.Index(fields=["hire", "next_open_due"], name="planprogress_hire_next_due"),
        ),
    ]
