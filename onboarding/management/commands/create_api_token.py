"""Print a new API token for a user: `manage.py create_api_token USERNAME --name NAME`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from onboarding import services
from onboarding.models import ApiToken, User


class Command(BaseCommand):
    help = "Make an API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What uses it, e.g. 'HRIS sync'.")
        parser.add_argument(
            "--scope",
            choices=[ApiToken.Scope.READ, ApiToken.Scope.WRITE],
            default=ApiToken.Scope.READ,
            help="read (the default) or write (read and write).",
        )

    def handle(self, *args, username: str, name: str, scope: str, **options) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user {username!r}.")
        try:
            token, secret = services.api_token_create(actor=None, user=user, name=name, scope=scope)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(
            f"Token {token.prefix}… ({token.get_scope_display()}) for {user.username}. "
            "Keep it now: it is not shown again."
        )
        self.stdout.write(secret)
