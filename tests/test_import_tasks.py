"""The cohort import as a background task: progress page, access, all or nothing,
and the same import through each task backend (immediate, database worker, RQ)."""

from __future__ import annotations

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test import Client, TestCase
from django.urls import reverse
from django_rq import get_worker
from django_tasks_rq.backend import Job
from rq import SimpleWorker

from onboarding import services
from onboarding.models import HireImport, NewHire

from .factories import NewHireFactory

IMPORT_URL = "/hires/import/"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
RQ = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
# A Redis database of its own, so a burst worker here runs only this file's jobs.
REDIS_URL = "redis://127.0.0.1:6379/11"
HEADER = "full_name,email,start_date,new_to_product_management"
ROWS = [
    "Ada Lovelace,ada@example.com,2025-09-01,yes",
    "Grace Hopper,grace@example.com,2025-09-15,no",
    "Alan Turing,alan@example.com,2025-10-01,no",
]


def csv_file(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


def preview(client: Client, content: bytes):
    response = client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("cohort.csv", content, content_type="text/csv")}
    )
    assert response.context["confirm"] is not None, response.content.decode()
    return response


def start(client: Client, content: bytes, *, run_callbacks: bool = True) -> HireImport:
    """Upload, then click Import; the task is enqueued when the request's transaction
    commits (in an ordinary test it never does, so the callbacks are run here)."""
    token = preview(client, content).context["confirm"].initial["token"]
    with TestCase.captureOnCommitCallbacks(execute=run_callbacks):
        response = client.post(IMPORT_URL, {"token": token})
    assert response.status_code == 302
    run = HireImport.objects.get()
    assert response["Location"] == reverse("onboarding:hire_import_run", args=[run.pk])
    return run


def progress_url(run: HireImport) -> str:
    return reverse("onboarding:hire_import_progress", args=[run.pk])


# --- through the immediate backend -----------------------------------------------------------


def test_it_imports_through_the_task_and_ends_with_a_link_to_the_hires(settings, owner_client):
    settings.TASKS = IMMEDIATE
    run = start(owner_client, csv_file(*ROWS))

    run.refresh_from_db()
    assert (run.status, run.rows_total, run.rows_checked, run.rows_done) == ("done", 3, 3, 3)
    assert run.started_at and run.finished_at and run.content == b""
    assert NewHire.objects.count() == 3

    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "hx-trigger" not in fragment  # finished: the polling stops
    assert 'aria-valuenow="100"' in fragment and "3 of 3 rows done" in fragment
    link = reverse("onboarding:hire_list") + f"?imported={run.batch}"
    assert f'href="{link}"' in fragment
    listed = owner_client.get(link).context["hires"]
    assert {hire.full_name for hire in listed} == {"Ada Lovelace", "Grace Hopper", "Alan Turing"}


def test_it_shows_a_bar_that_polls_until_the_run_ends(owner_client, owner):
    run = services.hire_import_start(
        actor=owner, content=b"", file_name="big.csv", template=None, rows_total=2000
    )
    page = owner_client.get(run.get_absolute_url()).content.decode()
    assert 'hx-get="' + progress_url(run) + '"' in page and 'hx-trigger="every 1s"' in page
    assert "Waiting for a worker" in page
    assert "<html" in page

    services.hire_import_update(run=run, status=HireImport.Status.RUNNING, rows_checked=500)
    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "<html" not in fragment  # only the fragment
    assert 'hx-trigger="every 1s"' in fragment
    assert "Checking rows: 500 of 2000" in fragment and 'aria-valuenow="12"' in fragment

    services.hire_import_update(run=run, rows_checked=2000)
    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "writing the hires: 0 of 2000" in fragment and 'aria-valuenow="50"' in fragment
    services.hire_import_update(run=run, rows_done=1000)
    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "1000 of 2000 written" in fragment and 'aria-valuenow="75"' in fragment


def test_it_shows_a_run_only_to_who_started_it_and_people_ops(
    client, owner, outsider, people_ops, plain_user
):
    run = services.hire_import_start(
        actor=owner, content=b"", file_name="a.csv", template=None, rows_total=1
    )
    for user, status in ((owner, 200), (people_ops, 200), (outsider, 404), (plain_user, 403)):
        client.force_login(user)
        for url in (run.get_absolute_url(), progress_url(run)):
            assert client.get(url).status_code == status, (user, url)
    client.logout()
    assert client.get(progress_url(run)).status_code == 302
    assert Client().get(reverse("onboarding:hire_import_run", args=[999999])).status_code == 302


def test_it_imports_nothing_and_names_the_row_and_field_when_one_row_fails_in_the_task(
    settings, owner_client, outsider
):
    settings.TASKS = IMMEDIATE
    token = preview(owner_client, csv_file(*ROWS)).context["confirm"].initial["token"]
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        owner_client.post(IMPORT_URL, {"token": token})
    # Between the click and the worker, someone adds one of these hires.
    NewHireFactory(hiring_manager=outsider, email="Grace@Example.com")
    for callback in callbacks:
        callback()

    run = HireImport.objects.get()
    assert (run.status, run.error_row, run.error_field, run.rows_done) == ("failed", 3, "email", 0)
    assert "Row 3, column email" in run.error_message
    assert NewHire.objects.count() == 1
    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "Nothing was imported: row 3, column email is wrong" in fragment
    assert "hx-trigger" not in fragment


def test_it_fails_the_run_when_the_template_went_away(settings, owner, owner_client):
    from .factories import PlanTemplateFactory

    settings.TASKS = IMMEDIATE
    template = PlanTemplateFactory()
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = services.hire_import_start(
            actor=owner, content=csv_file(*ROWS), file_name="a.csv", template=template, rows_total=3
        )
        template.active = False
        template.save()
    run.refresh_from_db()
    assert run.status == "failed" and "no longer available" in run.error_message
    assert not NewHire.objects.exists()


def test_it_runs_a_queued_import_once(settings, owner):
    settings.TASKS = IMMEDIATE
    from onboarding import imports

    with TestCase.captureOnCommitCallbacks(execute=True):
        run = services.hire_import_start(
            actor=owner, content=csv_file(*ROWS), file_name="a.csv", template=None, rows_total=3
        )
    assert imports.run(run_id=run.pk) == "not queued"  # a second delivery
    assert NewHire.objects.count() == 3


def test_it_records_a_queue_that_is_down_instead_of_answering_500(settings, owner_client):
    settings.TASKS = RQ
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0"}}  # nothing listens
    run = start(owner_client, csv_file(*ROWS))
    run.refresh_from_db()
    assert run.status == "failed" and "could not be started" in run.error_message
    assert owner_client.get(run.get_absolute_url()).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_it_shows_rows_written_before_the_import_commits_on_postgresql(owner):
    run = services.hire_import_start(
        actor=owner, content=b"", file_name="a.csv", template=None, rows_total=2000
    )
    services.hire_import_update(run=run, status=HireImport.Status.RUNNING)

    def seen_from_outside() -> int:
        other = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT rows_done FROM onboarding_hireimport WHERE id = %s", [run.pk]
                )
                return cursor.fetchone()[0]
        finally:
            other.close()

    with transaction.atomic():  # the import's write transaction, still open
        recorded = services.hire_import_progress_aside(run=run, rows_done=500)
        if connection.vendor == "postgresql":
            assert recorded and seen_from_outside() == 500
        else:  # SQLite: one writer at a time; the count waits for the commit
            assert not recorded
    run.refresh_from_db()
    assert run.rows_done == (500 if connection.vendor == "postgresql" else 0)


# --- the same import through a real worker of each backend ----------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_imports_through_the_database_backends_worker(settings, owner):
    settings.TASKS = DATABASE
    client = Client()
    client.force_login(owner)
    run = start(client, csv_file(*ROWS), run_callbacks=False)  # a real commit enqueues it
    assert HireImport.objects.get().status == "queued" and not NewHire.objects.exists()

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    run.refresh_from_db()
    assert (run.status, run.rows_done) == ("done", 3)
    assert NewHire.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_it_imports_through_rq_with_a_real_redis(settings, owner):
    settings.TASKS = RQ
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
    connection = redis.Redis.from_url(REDIS_URL)
    # Fails (rather than skips) when Redis is not running: CI must provide it.
    assert connection.ping()
    connection.flushdb()
    client = Client()
    client.force_login(owner)
    run = start(client, csv_file(*ROWS), run_callbacks=False)
    assert HireImport.objects.get().status == "queued"

    # A burst worker that runs the job in this process (the test database is here).
    worker = get_worker("default", job_class=Job, worker_class=SimpleWorker)
    assert worker.work(burst=True)

    run.refresh_from_db()
    assert (run.status, run.rows_done) == ("done", 3)
    assert NewHire.objects.count() == 3
    connection.flushdb()


def test_it_shows_people_ops_the_import_runs_in_the_admin(client, people_ops, owner):
    from onboarding.models import HireImport

    run = HireImport.objects.create(
        created_by=owner, file_name="cohort.csv", content=b"secret,row", batch="b1"
    )
    client.force_login(people_ops)
    page = client.get("/admin/onboarding/hireimport/")
    assert page.status_code == 200 and b"cohort.csv" in page.content
    detail = client.get(f"/admin/onboarding/hireimport/{run.pk}/change/")
    assert detail.status_code == 200 and b"secret,row" not in detail.content
    client.force_login(owner)
    assert client.get("/admin/onboarding/hireimport/").status_code == 403


def test_it_says_when_no_worker_took_the_import_or_its_worker_stopped(owner_client, owner):
    import datetime

    from django.utils import timezone

    run = services.hire_import_start(
        actor=owner, content=b"", file_name="big.csv", template=None, rows_total=2000
    )
    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "Waiting for a worker" in fragment and "not running" not in fragment
    assert "Nothing was imported" not in fragment  # a run in progress has not failed

    HireImport.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=3)
    )
    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "the task worker is probably not running" in fragment
    assert 'hx-trigger="every 1s"' in fragment  # it still starts once a worker runs

    services.hire_import_update(
        run=run,
        status=HireImport.Status.RUNNING,
        started_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "probably not running" not in fragment and "may have stopped" not in fragment
    HireImport.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - datetime.timedelta(minutes=20)
    )
    fragment = owner_client.get(progress_url(run)).content.decode()
    assert "the worker running it may have stopped" in fragment
