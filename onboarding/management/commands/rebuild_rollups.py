"""`manage.py rebuild_rollups [--check]`: compare or recount the dashboard's rollup tables.

The tables are kept by database triggers, so this is for after a restore from a
partial backup, a bulk load with triggers disabled, or a suspected bug. --check
only reports (exit status 1 when anything differs); without it the tables are
recounted from the assignments, plans, hires and guidance, then checked.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding import rollups

SHOWN = 20


class Command(BaseCommand):
    help = "Check (--check) or recount the PlanProgress and DailyTotals rollup tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Only report differences; change nothing."
        )

    def handle(self, *args, check: bool, **options) -> None:
        if not check:
            rollups.rebuild()
            rollups.compact()
            self.stdout.write("Recounted plan progress and daily totals.")
        found = rollups.differences()
        if found:
            for line in found[:SHOWN]:
                self.stderr.write(line)
            if len(found) > SHOWN:
                self.stderr.write(f"... and {len(found) - SHOWN} more.")
            raise CommandError(f"{len(found)} rollup value(s) differ from a recount.")
        self.stdout.write(self.style.SUCCESS("Rollups match a recount of the source rows."))
