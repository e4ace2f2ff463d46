"""Demo users and data: `python manage.py seed_demo [--password PASSWORD]`.

Idempotent: users are keyed on username and hires on email, and whatever
already exists is left as it is. The README's run command relies on the
login details this prints.
"""

import os
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from onboarding import demo
from onboarding.links import site_root


class Command(BaseCommand):
    help = (
        "Create demo hiring managers (maria, devon), a people-ops user (pat), a superuser "
        "(admin) and about 30 hires in varied states. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Password for the demo users (default: $DEMO_PASSWORD, else a generated one "
            "for new users; existing users keep theirs).",
        )

    def handle(self, *args, **options):
        explicit = options["password"] or os.environ.get("DEMO_PASSWORD") or None
        password = explicit or secrets.token_urlsafe(12)
        if explicit:
            try:
                validate_password(explicit)
            except ValidationError as exc:
                # A weak demo password is the caller's choice; say so, do not refuse.
                self.stderr.write(f"Warning: weak demo password: {' '.join(exc.messages)}")
        try:
            result = demo.seed(
                password=password, reset_passwords=bool(explicit), today=timezone.localdate()
            )
        except demo.DemoDataError as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(
            f"Demo data: {result.hires_created} hires created, "
            f"{result.hires_existing} already there."
        )
        if result.past_cohort_created:
            self.stdout.write(
                f"Last year's cohort for the outcome report: {result.past_cohort_created} "
                "archived hires with completed check-ins."
            )
        if result.example_courses_priced:
            self.stdout.write(
                f"Example prices and hours for {result.example_courses_priced} demo courses "
                "(marked as example figures in each course's description)."
            )
        url = f"{site_root()}/"
        self.stdout.write(f"\nSign in at {url} (admin site: {url}admin/)")
        for user, password_set in result.users:
            state = "" if password_set else "  [password unchanged]"
            self.stdout.write(f"  {user.username:<8} {user.label}{state}")
        if result.hire_login:
            username, password_set = result.hire_login
            state = "" if password_set else "  [password unchanged]"
            self.stdout.write(f"  {username}  a new hire: sees only their own plan at /me/{state}")
        if not all(password_set for _, password_set in result.users):
            self.stdout.write(
                "Users marked [password unchanged] keep the password from the earlier run; "
                "pass --password or set DEMO_PASSWORD to set a new one."
            )
        # Last, so it is the line left on screen (`make run` repeats this block once the
        # server has started).
        if result.any_password_set:
            self.stdout.write(self.style.SUCCESS(f"Password: {password}"))
