"""generate_bench_data leaves the planner statistics of what it filled up to date."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from onboarding.management.commands.generate_bench_data import FILLED


def analyzed_tables() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        else:
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL"
            )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_it_analyzes_every_table_it_filled(shipped_catalog):
    # The shipped catalog and framework: earlier transactional tests flush them away, and
    # without them no guidance is attached and no competency rated.
    call_command(
        "generate_bench_data", hires=20, assignments_per_hire=3, managers=2, stdout=io.StringIO()
    )
    filled = {model._meta.db_table for model in FILLED if model.objects.exists()}
    assert len(filled) == len(FILLED), "every table the command fills has rows"
    assert filled <= analyzed_tables()
