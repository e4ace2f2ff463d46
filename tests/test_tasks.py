"""Background tasks: retries with backoff, failures people-ops can see, and real workers.

The retry tests use the suite's backend (tests/task_backend.py), which keeps a retry
that must wait so the test can run it. The worker tests run the same email through
the database backend and `manage.py db_worker`, and through RQ on a real Redis with a
burst worker. Redis must answer (CI starts it): the RQ tests fail, not skip, without it.
TEST_REDIS_URL picks the Redis database they use (their own, emptied before each test).
"""

from __future__ import annotations

import contextlib
import datetime
import os
from io import StringIO

import django_rq
import pytest
import redis
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus, task_backends
from django_tasks_db.models import DBTaskResult
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from onboarding import services, tasks
from onboarding.models import DigestDelivery, HireInvitation, TaskFailure

from .factories import AssignmentFactory

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
DAY = datetime.timedelta(days=1)


@pytest.fixture
def smtp_down(monkeypatch):
    """The mail server refuses every message (the outside world, so mocked)."""

    def refuse(self, *args, **kwargs):
        raise OSError("Connection refused by the mail server")

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", refuse)
    return monkeypatch


def deferred() -> list:
    return task_backends["default"].deferred


@pytest.fixture
def run_deferred(django_capture_on_commit_callbacks):
    def run() -> list[datetime.timedelta]:
        """Run the waiting tasks as the worker would when due; how long each waited."""
        waiting = list(deferred())
        deferred().clear()
        waits = [result.task.run_after - timezone.now() for result in waiting]
        with django_capture_on_commit_callbacks(execute=True):
            for result in waiting:
                # The last attempt re-raises, for the worker to record too.
                with contextlib.suppress(OSError):
                    result.task.call(*result.args, **result.kwargs)
        return waits

    return run


def invite(owner, hire, capture) -> str:
    with capture(execute=True):
        _invitation, token = services.invitation_send(actor=owner, hire=hire)
    return token


# --- retries -----------------------------------------------------------------------------------


def test_it_retries_a_failing_email_with_backoff_then_records_the_failure(
    owner, hire, smtp_down, django_capture_on_commit_callbacks, run_deferred
):
    token = invite(owner, hire, django_capture_on_commit_callbacks)
    waits = []
    while deferred():
        waits += run_deferred()

    assert len(waits) == len(tasks.EMAIL_RETRY_DELAYS)
    for wait, delay in zip(waits, tasks.EMAIL_RETRY_DELAYS, strict=True):
        assert datetime.timedelta(seconds=delay - 5) < wait <= datetime.timedelta(seconds=delay)
    failure = TaskFailure.objects.get()
    assert failure.task_name == "onboarding.tasks.send_invitation_email"
    assert failure.attempts == len(tasks.EMAIL_RETRY_DELAYS) + 1
    assert "Connection refused by the mail server" in failure.error
    invitation = HireInvitation.objects.get()
    assert failure.arguments == {"invitation_id": invitation.pk, "link_root": None}
    assert token not in str(failure.arguments)  # the one-time link stays secret
    assert mail.outbox == []


def test_it_sends_the_email_on_a_retry_once_the_server_is_back(
    owner, hire, smtp_down, django_capture_on_commit_callbacks, run_deferred
):
    invite(owner, hire, django_capture_on_commit_callbacks)
    assert mail.outbox == [] and len(deferred()) == 1
    smtp_down.undo()
    run_deferred()
    [message] = mail.outbox
    assert message.to == [hire.email]
    assert deferred() == [] and not TaskFailure.objects.exists()


def test_it_retries_only_the_digests_that_failed(
    owner, outsider, plan, monkeypatch, django_capture_on_commit_callbacks, run_deferred
):
    today = timezone.localdate()
    AssignmentFactory(plan=plan, due_date=today - DAY)
    from .factories import NewHireFactory, TrainingPlanFactory

    other = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=outsider))
    AssignmentFactory(plan=other, due_date=today - DAY)
    real_send = mail.EmailMultiAlternatives.send

    def flaky(self, *args, **kwargs):
        if owner.email in self.to:
            raise OSError("SMTP server went away")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", flaky)
    with pytest.raises(CommandError, match=f"Failed for: {owner.username}"):
        call_command("send_reminders", stdout=StringIO())
    assert [m.to for m in mail.outbox] == [[outsider.email]]
    assert len(deferred()) == 1

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", real_send)
    run_deferred()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, outsider.email])
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == 2


def test_it_retries_a_reminders_run_that_broke_then_records_it(
    owner, plan, monkeypatch, django_capture_on_commit_callbacks, run_deferred
):
    from onboarding import reminders

    def broken(*args, **kwargs):
        raise OSError("database went away")

    monkeypatch.setattr(reminders, "send_digests", broken)
    with pytest.raises(CommandError, match="retrying"):
        call_command("send_reminders", stdout=StringIO())
    runs = 1
    while deferred():
        run_deferred()
        runs += 1
    assert runs == len(tasks.EMAIL_RETRY_DELAYS) + 1
    failure = TaskFailure.objects.get()
    assert failure.task_name == "onboarding.tasks.send_reminders"
    assert "database went away" in failure.error
    assert failure.arguments == {"day": timezone.localdate().isoformat()}


# --- failures in the admin -----------------------------------------------------------------------


def test_it_shows_failed_tasks_to_people_ops_and_not_to_managers(people_ops_client, owner, client):
    failure = services.task_failure_record(
        task_name="onboarding.tasks.send_invitation_email",
        arguments={"invitation_id": 7},
        attempts=5,
        error="OSError: Connection refused",
    )
    listing = people_ops_client.get(reverse("admin:onboarding_taskfailure_changelist"))
    assert listing.status_code == 200
    assert "send_invitation_email" in listing.content.decode()
    page = people_ops_client.get(reverse("admin:onboarding_taskfailure_change", args=[failure.pk]))
    assert "Connection refused" in page.content.decode()
    # Read-only: nobody edits or deletes the record of what happened.
    assert people_ops_client.post(
        reverse("admin:onboarding_taskfailure_delete", args=[failure.pk]), {"post": "yes"}
    ).status_code in (302, 403)
    assert TaskFailure.objects.filter(pk=failure.pk).exists()


def test_it_keeps_the_task_queue_admin_for_superusers(client, people_ops, superuser):
    # Queued tasks carry invitation links in their arguments.
    url = reverse("admin:django_tasks_database_dbtaskresult_changelist")
    client.force_login(people_ops)
    assert client.get(url).status_code == 403
    client.force_login(superuser)
    assert client.get(url).status_code == 200


# --- the database backend and its worker ------------------------------------------------------


@pytest.fixture
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_db_worker() -> None:
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0, stdout=StringIO()
    )


@pytest.mark.django_db(transaction=True)
def test_it_sends_an_invitation_through_the_database_worker(database_backend, owner, hire):
    services.invitation_send(actor=owner, hire=hire)
    assert mail.outbox == []
    queued = DBTaskResult.objects.get()
    assert queued.status == TaskResultStatus.READY
    assert queued.task_path == "onboarding.tasks.send_invitation_email"

    run_db_worker()

    [message] = mail.outbox
    assert message.to == [hire.email]
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db(transaction=True)
def test_it_skips_an_invitation_revoked_before_the_worker_ran(database_backend, owner, hire):
    services.invitation_send(actor=owner, hire=hire)
    services.invitation_revoke(actor=owner, hire=hire)
    run_db_worker()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_it_schedules_the_retry_in_the_database(database_backend, owner, hire, smtp_down):
    services.invitation_send(actor=owner, hire=hire)
    run_db_worker()  # the retry waits 30 s, so this batch ends without it
    first, retry = DBTaskResult.objects.order_by("enqueued_at")
    assert first.status == TaskResultStatus.SUCCESSFUL  # it handed over to the retry
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.run_after > timezone.now() + datetime.timedelta(seconds=20)
    assert mail.outbox == [] and not TaskFailure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_queues_the_reminders_for_the_worker(database_backend, owner, hire):
    plan = services.plan_create(actor=owner, hire=hire, title="Plan")
    AssignmentFactory(plan=plan, due_date=timezone.localdate() - DAY)
    hire.check_ins.update(completed_at=timezone.now())
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "queued as task" in out.getvalue()
    assert mail.outbox == []
    run_db_worker()
    [digest] = mail.outbox
    assert digest.to == [owner.email]


@pytest.mark.django_db(transaction=True)
def test_it_sends_the_reminders_from_the_command_with_now(database_backend, owner, hire):
    plan = services.plan_create(actor=owner, hire=hire, title="Plan")
    AssignmentFactory(plan=plan, due_date=timezone.localdate() - DAY)
    hire.check_ins.update(completed_at=timezone.now())
    out = StringIO()
    call_command("send_reminders", "--now", stdout=out)
    assert "1 digest(s) sent" in out.getvalue()
    [digest] = mail.outbox
    assert digest.to == [owner.email]
    assert not DBTaskResult.objects.exists()


# --- RQ on a real Redis -----------------------------------------------------------------------


@pytest.fixture
def rq_backend(settings):
    connection = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(
            f"Redis must run at {TEST_REDIS_URL} for the RQ tests (.ci/run starts it): {error}"
        )
    settings.RQ_QUEUES = {"default": {"URL": TEST_REDIS_URL, "DEFAULT_TIMEOUT": 60}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    queue = django_rq.get_queue("default")
    empty(queue)  # what an earlier run left behind
    yield queue
    empty(queue)


def empty(queue) -> None:
    queue.empty()
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id, delete_job=True)


def run_rq_worker(queue) -> None:
    """One burst of an in-process worker (no fork: it must see this test's database)."""
    worker = django_rq.get_worker("default", worker_class=SimpleWorker)
    worker.work(burst=True, with_scheduler=False)


@pytest.mark.django_db(transaction=True)
def test_it_sends_an_invitation_through_rq(rq_backend, owner, hire):
    services.invitation_send(actor=owner, hire=hire)
    assert mail.outbox == []
    assert rq_backend.count == 1

    run_rq_worker(rq_backend)

    [message] = mail.outbox
    assert message.to == [hire.email]
    assert rq_backend.count == 0


@pytest.mark.django_db(transaction=True)
def test_it_schedules_the_retry_in_rq(rq_backend, owner, hire, smtp_down):
    services.invitation_send(actor=owner, hire=hire)
    run_rq_worker(rq_backend)
    scheduled = ScheduledJobRegistry(queue=rq_backend)
    [job_id] = scheduled.get_job_ids()
    job = rq_backend.fetch_job(job_id)
    assert job.kwargs["attempt"] == 2
    assert mail.outbox == [] and not TaskFailure.objects.exists()
