"""manage.py webhooks_resume: enqueue again the webhook attempts a lost task left waiting.

Each attempt schedules the next as a task. If that task is lost (Redis emptied, a
worker killed mid-task with the database backend), the delivery stays "pending" with
its next attempt in the past. Run this from a timer (every 15 minutes, say): it hands
such deliveries back to the worker. An attempt that does run twice sends the same
webhook-id, which receivers use to drop repeats.
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from ... import tasks
from ...models import WebhookDelivery


class Command(BaseCommand):
    help = "Enqueue again pending webhook deliveries whose next attempt is overdue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=15,
            help="Only deliveries overdue by more than this (default 15): a busy queue "
            "is not a lost task.",
        )

    def handle(self, *args, **options) -> None:
        grace = datetime.timedelta(minutes=max(options["grace_minutes"], 0))
        overdue = WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=timezone.now() - grace
        ).only("pk", "attempts")
        count = 0
        for delivery in overdue.iterator():
            tasks.deliver_webhook.enqueue(
                delivery_id=delivery.pk, attempt=len(delivery.attempts) + 1
            )
            count += 1
        if options["verbosity"] >= 1:
            self.stdout.write(f"{count} overdue webhook delivery(ies) enqueued again.")
