"""manage.py send_reminders: the daily digest to each hiring manager, the weekly note to hires.

Idempotent and safe to run from cron on several hosts at once: each digest is
claimed in the database before it is sent (see onboarding/reminders.py).

The sending itself is a background task (tasks.send_reminders), so that a mail
server that is down is retried with backoff by the worker; `--now` sends from this
process instead, for a host without a worker.
"""

from __future__ import annotations

import datetime
import re

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django_tasks import TaskResultStatus

from ... import reminders, tasks

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
            "--now",
            action="store_true",
            help="Send from this process instead of handing the run to the task worker.",
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

        if not dry_run and not options["now"]:
            self.enqueue(today, log)
            return
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

    def enqueue(self, today: datetime.date, log) -> None:
        """Hand the run to the worker; report it here when the backend ran it at once."""
        result = tasks.send_reminders.enqueue(day=today.isoformat())
        if result.status == TaskResultStatus.FAILED:
            raise CommandError(f"{today}: the reminders task failed; see the log.")
        if result.status != TaskResultStatus.SUCCESSFUL:
            log(f"{today}: the reminders are queued as task {result.id} for the worker.")
            return
        outcome = result.return_value
        for line in outcome["lines"]:
            log(line)
        summary = (
            f"{today}: {outcome['sent']} digest(s) sent, "
            f"{outcome['already_sent']} already sent, "
            f"{outcome['skipped_no_email']} skipped (no email address), "
            f"{len(outcome['failed'])} failed."
        )
        if outcome["failed"]:
            names = ", ".join(outcome["failed"])
            raise CommandError(f"{summary} Failed for: {names}. A later run retries them.")
        log(self.style.SUCCESS(summary))
