"""`manage.py export_csv {hires,assignments,tuition}`: an export to a file, for scheduled jobs.

    manage.py export_csv assignments --output /srv/reports/assignments.csv \
        --filter status=assigned --filter status=scheduled --filter overdue=true

The bytes are those of the web export with the same filters (the query string
keys of the dashboard list, repeated --filter for repeated keys). Without --user
the job sees every hire, like people-ops; with --user USERNAME it sees what that
user sees. --output is written to a temporary file and renamed into place, so a
reader (or a second host running the same job) never sees a half-written file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from onboarding import exports, selectors
from onboarding.models import User


class Command(BaseCommand):
    help = "Write a CSV export (hires, assignments or tuition) to a file or to stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=exports.EXPORT_NAMES)
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")
        parser.add_argument("--user", help="export what this user sees (default: everything)")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a filter of the dashboard list, e.g. status=assigned; repeatable",
        )

    def handle(self, *args, **options) -> None:
        user = self._user(options["user"])
        data = QueryDict(mutable=True)
        for item in options["filter"]:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CommandError(f"--filter takes KEY=VALUE, got {item!r}.")
            data.appendlist(key.strip(), value)
        try:
            rows = selectors.export_rows(options["name"], data, user=user)
        except selectors.FilterError as error:
            raise CommandError(str(error)) from None

        if not options["output"]:
            exports.write_csv(options["name"], rows, sys.stdout.buffer)
            sys.stdout.flush()
            return
        target = Path(options["output"])
        if not target.parent.is_dir():
            raise CommandError(f"The folder {target.parent} does not exist.")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "wb") as handle:
                size = exports.write_csv(options["name"], rows, handle)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.stdout.write(f"Wrote {size:,} bytes to {target}.")

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None  # the system: every hire
        try:
            return User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user {username!r}.") from None
