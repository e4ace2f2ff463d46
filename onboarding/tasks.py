"""Background tasks, written against Django's Tasks API.

They import `task` from the django-tasks backport, so they move to Django 6's
`django.tasks` by changing that one import. Which backend runs them is a setting
(TASKS_BACKEND: the database and `manage.py db_worker` by default, RQ on Redis for
many app servers, or "immediate" inside the process that enqueues them).

Tasks are enqueued with `transaction.on_commit` by the services that cause them, so a
worker never runs one for a write that rolled back, nor before the rows it reads exist.
Every argument is passed by keyword and is JSON: the backend stores it.

Retries: a task run that fails is enqueued again later (`retry_or_give_up`, or the
`retried` decorator for tasks that simply raise), with a growing delay, up to a fixed
number of attempts; the last failure is recorded as a TaskFailure, which people-ops
see in the admin whatever the backend. Webhook deliveries keep their own schedule and
log on their WebhookDelivery row (onboarding/webhooks.py).
"""

from __future__ import annotations

import datetime
import functools
import importlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

if TYPE_CHECKING:
    from django_tasks.base import Task

logger = logging.getLogger(__name__)

# Seconds to wait before the 2nd, 3rd, ... attempt of an email: a mail server that is
# down for a few minutes or an hour loses nothing.
EMAIL_RETRY_DELAYS: tuple[int, ...] = (30, 5 * 60, 30 * 60, 2 * 60 * 60)


def enqueue_on_commit(task_: Task, **kwargs: Any) -> None:
    """Enqueue once the current transaction commits (at once when there is none)."""
    transaction.on_commit(lambda: task_.enqueue(**kwargs))


def enqueue_later(task_: Task, delay: datetime.timedelta, **kwargs: Any) -> bool:
    """Enqueue `task_` to run after `delay`; False when the backend cannot wait.

    The immediate backend runs a task inside the call that enqueues it and has no
    notion of "later": retrying there at once would only repeat the same failure.
    """
    if not task_.get_backend().supports_defer:
        return False
    task_.using(run_after=timezone.now() + delay).enqueue(**kwargs)
    return True


def retry_or_give_up(
    task_: Task,
    *,
    attempt: int,
    delays: Sequence[int],
    kwargs: dict[str, Any],
    error: str,
    secret_arguments: Sequence[str] = (),
) -> bool:
    """After attempt number `attempt` failed: enqueue the next one, or record the failure.

    Returns True when another attempt is on its way. The recorded failure leaves out
    `secret_arguments` (they stay only in the backend's own queue).
    """
    if attempt <= len(delays):
        delay = datetime.timedelta(seconds=delays[attempt - 1])
        if enqueue_later(task_, delay, **kwargs, attempt=attempt + 1):
            logger.warning(
                "Task %s failed (attempt %s), retrying in %s: %s", task_.name, attempt, delay, error
            )
            return True
    from . import services

    services.task_failure_record(
        task_name=task_.module_path,
        arguments={k: v for k, v in kwargs.items() if k not in secret_arguments},
        attempts=attempt,
        error=error,
    )
    logger.error("Task %s gave up after %s attempt(s): %s", task_.name, attempt, error)
    return False


def retried(
    delays: Sequence[int] = EMAIL_RETRY_DELAYS, *, secret_arguments: Sequence[str] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator (under `@task()`): a run that raises is retried, then recorded as failed.

    The wrapped function takes an extra keyword `attempt` (1 for the first run). A run
    that will be retried returns None (the backend sees a success: the retry is a new
    task); the last one re-raises, so the backend records the failure too.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def run(*, attempt: int = 1, **kwargs: Any) -> Any:
            try:
                return func(**kwargs)
            except Exception as error:
                # The Task object itself: the module attribute this decorator ends up as.
                this = getattr(importlib.import_module(func.__module__), func.__name__)
                if retry_or_give_up(
                    this,
                    attempt=attempt,
                    delays=delays,
                    kwargs=kwargs,
                    error=f"{type(error).__name__}: {error}",
                    secret_arguments=secret_arguments,
                ):
                    return None
                raise

        return run

    return decorate


# --- emails -------------------------------------------------------------------------------------


@task()
@retried(secret_arguments=("token",))
def send_invitation_email(*, invitation_id: int, token: str, link_root: str | None = None) -> str:
    """Email a hire the link to their plan, unless the invitation was revoked or used meanwhile."""
    from . import emails
    from .models import HireInvitation

    invitation = (
        HireInvitation.objects.select_related("hire__account", "hire__hiring_manager")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.revoked_at or invitation.used_at:
        return "skipped: the invitation is gone, revoked or used"
    emails.send_invitation(invitation, token, link_root=link_root)
    return "sent"


@task()
def send_reminders(*, day: str, attempt: int = 1) -> dict[str, Any]:
    """The day's manager digests and the week's hire notes (reminders.send_digests).

    Each digest is claimed before it is sent, so a retry (or a second run) sends only
    what failed: a failed send released its claim.
    """
    from . import reminders

    lines: list[str] = []
    try:
        result = reminders.send_digests(datetime.date.fromisoformat(day), log=lines.append)
    except Exception as error:
        # The run itself broke (the database went away, say): retry the whole run;
        # claims keep whatever was sent already from going twice.
        if retry_or_give_up(
            send_reminders,
            attempt=attempt,
            delays=EMAIL_RETRY_DELAYS,
            kwargs={"day": day},
            error=f"{type(error).__name__}: {error}",
        ):
            return {
                "lines": lines,
                "sent": 0,
                "already_sent": 0,
                "skipped_no_email": 0,
                "failed": ["(the whole run: retrying)"],
            }
        raise
    failed = [item.recipient.username for item, _error in result.failed]
    if failed:
        retry_or_give_up(
            send_reminders,
            attempt=attempt,
            delays=EMAIL_RETRY_DELAYS,
            kwargs={"day": day},
            error=f"Sending failed for: {', '.join(failed)}",
        )
    return {
        "lines": lines,
        "sent": len(result.sent),
        "already_sent": len(result.already_sent),
        "skipped_no_email": len(result.skipped_no_email),
        "failed": failed,
    }


# --- webhooks -----------------------------------------------------------------------------------


# More deliveries than this from one write are enqueued by a task, not by the request.
FAN_OUT_ABOVE = 10


def enqueue_webhook_deliveries(delivery_ids: Sequence[int]) -> None:
    for delivery_id in delivery_ids:
        deliver_webhook.enqueue(delivery_id=delivery_id)


@task()
def fan_out_webhook_deliveries(*, delivery_ids: list[int]) -> int:
    """Enqueue one delivery task per id: many events (an import) cost the request one enqueue."""
    enqueue_webhook_deliveries(delivery_ids)
    return len(delivery_ids)


@task()
def deliver_webhook(*, delivery_id: int, attempt: int = 1) -> str:
    """One attempt at one webhook delivery; it schedules the next attempt itself."""
    from . import webhooks

    return webhooks.deliver(delivery_id=delivery_id, attempt=attempt)
