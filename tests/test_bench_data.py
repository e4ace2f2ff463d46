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
def test_it_analyzes_every_table_it_filled():
    call_command(
        "generate_bench_data", hires=20, assignments_per_hire=3, managers=2, stdout=io.StringIO()
    )
    assert {model._meta.db_table for model in FILLED} <= analyzed_tables()
