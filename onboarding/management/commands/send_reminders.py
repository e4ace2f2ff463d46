"""manage.py send_reminders: the daily digest to each hiring manager, the weekly note to hires.

Idempotent and safe to run from cron on several hosts at once: each digest is
claimed in the database before it is sent (see onboarding/reminders.py).
"""

from __future__ import annotations

import datetime
import re

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ... import reminders

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(raw: str) -> datetime.date:
    message = f"--date must be a calendar date written YYYY-MM-DD, such as 2025-03-31; got {raw!r}."
    if not DATE_PATTERN.match(raw.strip()):
        raise CommandError(message)
    try:
        return datetime.date.fromisoformat(raw.strip())
    except ValueError:
        raise CommandError(message) from None


class Command(BaseCommand):
    help = (
        "Email each hiring manager one digest of their hires' overdue and upcoming "
        "training, guidance not yet discussed and expiring certifications. Each digest "
        "goes once per day, however often and on however many hosts this runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be sent; send nothing and record nothing.",
        )
        parser.add_argument(
            "--date",
            help="The day to report on, YYYY-MM-DD (default: today in TIME_ZONE).",
        )

    def handle(self, *args, **options) -> None:
        today = parse_date(options["date"]) if options.get("date") else timezone.localdate()
        dry_run = options["dry_run"]
        verbosity = options["verbosity"]

        def log(line: str) -> None:
            if verbosity >= 1:
                self.stdout.write(line)

        result = reminders.send_digests(today, dry_run=dry_run, log=log)

        if dry_run and verbosity >= 2:
            for digest in result.sent:
                if isinstance(digest, reminders.HireNote):
                    email = reminders.render_hire_note(digest)
                else:
                    email = reminders.render_email(digest)
                self.stdout.write(f"\n--- {email.subject} (to {digest.recipient.email})\n")
                self.stdout.write(email.body)

        verb = "would be sent" if dry_run else "sent"
        summary = (
            f"{today}: {len(result.sent)} digest(s) {verb}, "
            f"{len(result.already_sent)} already sent, "
            f"{len(result.skipped_no_email)} skipped (no email address), "
            f"{len(result.failed)} failed."
        )
        if result.failed:
            # A non-zero exit makes cron/systemd report it; the claims were released,
            # so the next run retries these.
            names = ", ".join(digest.recipient.username for digest, _ in result.failed)
            raise CommandError(f"{summary} Failed for: {names}. A later run retries them.")
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(summary))
