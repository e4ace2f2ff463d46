"""Outgoing webhooks, delivered to a real HTTP receiver on 127.0.0.1.

Only the clock of the retries is ours to drive: the delivery task's next attempt waits
in the test backend's `deferred` list (tests/task_backend.py) and runs when a test says.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.models import DBTaskResult

from onboarding import selectors, services, tasks, webhooks
from onboarding.models import (
    Assignment,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    webhook_secret,
)
from onboarding.rules import CheckInKind

from .factories import AssignmentFactory

ALL_EVENTS = list(WebhookEvent.values)


# --- the receiver ----------------------------------------------------------------------------


class Receiver:
    """An HTTP server in a thread that answers each POST with the next status of `answers`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/x")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def private_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def endpoint(receiver, private_allowed, people_ops) -> WebhookEndpoint:
    return services.webhook_endpoint_save(
        actor=people_ops,
        endpoint=WebhookEndpoint(name="HRIS", url=receiver.url, events=ALL_EVENTS),
        expected_version=None,
    )


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> dict:
    """The README's receiver-side check, word for word: the payload, or ValueError."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(timezone.now().timestamp() - int(timestamp)) > tolerance:
        raise ValueError("timestamp too old")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    sent = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")]
    if not any(hmac.compare_digest(expected, s) for s in sent):
        raise ValueError("bad signature")
    return json.loads(body)


def deferred() -> list:
    return task_backends["default"].deferred


@pytest.fixture
def run_deferred(django_capture_on_commit_callbacks):
    """Run the tasks that were waiting, as the worker would once their time came."""

    def run() -> None:
        waiting = list(deferred())
        deferred().clear()
        with django_capture_on_commit_callbacks(execute=True):
            for result in waiting:
                result.task.call(*result.args, **result.kwargs)

    return run


def create_hire(django_capture_on_commit_callbacks, owner, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return services.hire_create(
            actor=owner,
            full_name=kwargs.get("full_name", "Wendy Webhook"),
            email="wendy@example.com",
            hiring_manager=owner,
            start_date=datetime.date(2026, 1, 5),
        )


# --- signing and delivery ------------------------------------------------------------------------


def test_it_delivers_a_signed_event_the_receiver_can_verify(
    receiver, endpoint, owner, django_capture_on_commit_callbacks
):
    hire = create_hire(django_capture_on_commit_callbacks, owner)

    [request] = receiver.requests
    payload = verify(endpoint.secret, request["headers"], request["body"])
    assert payload["type"] == "hire.created"
    assert payload["data"]["id"] == hire.pk
    assert payload["data"]["hiring_manager"] == owner.username
    assert request["path"] == "/hooks"
    assert request["headers"]["Content-Type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert request["headers"]["webhook-id"] == delivery.message_id
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    [attempt] = delivery.attempts
    assert attempt["status_code"] == 200 and attempt["error"] == "" and attempt["attempt"] == 1


def test_it_refuses_a_signature_made_with_another_secret(
    receiver, endpoint, owner, django_capture_on_commit_callbacks
):
    create_hire(django_capture_on_commit_callbacks, owner)
    [request] = receiver.requests
    with pytest.raises(ValueError, match="bad signature"):
        verify(webhook_secret(), request["headers"], request["body"])
    tampered = request["body"].replace(b"Wendy", b"Mallory")
    with pytest.raises(ValueError, match="bad signature"):
        verify(endpoint.secret, request["headers"], tampered)


def test_it_retries_after_a_500_with_the_same_message_id(
    receiver, endpoint, owner, django_capture_on_commit_callbacks, run_deferred
):
    receiver.answers = [500]
    create_hire(django_capture_on_commit_callbacks, owner)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert [a["status_code"] for a in delivery.attempts] == [500]
    assert delivery.attempts[0]["error"] == "HTTP 500"
    [waiting] = deferred()
    wait = waiting.task.run_after - timezone.now()
    assert datetime.timedelta(seconds=3) < wait <= datetime.timedelta(seconds=5)
    assert delivery.next_attempt_at is not None

    run_deferred()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert [a["status_code"] for a in delivery.attempts] == [500, 200]
    first, second = receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    verify(endpoint.secret, second["headers"], second["body"])
    assert deferred() == []


def test_it_gives_up_after_the_last_attempt_over_about_a_day(
    receiver, endpoint, owner, django_capture_on_commit_callbacks, run_deferred
):
    receiver.answers = [500] * 20
    create_hire(django_capture_on_commit_callbacks, owner)
    waits = []
    while deferred():
        waits.append(deferred()[0].task.run_after - timezone.now())
        run_deferred()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.next_attempt_at is None
    assert len(delivery.attempts) == webhooks.MAX_ATTEMPTS == len(receiver.requests)
    assert [a["attempt"] for a in delivery.attempts] == list(range(1, webhooks.MAX_ATTEMPTS + 1))
    assert waits == sorted(waits)  # each wait longer than the one before
    total = sum(webhooks.RETRY_DELAYS)
    assert (
        datetime.timedelta(hours=12)
        < datetime.timedelta(seconds=total)
        < datetime.timedelta(hours=30)
    )


def test_it_does_not_follow_a_redirect(
    receiver, endpoint, owner, django_capture_on_commit_callbacks
):
    receiver.answers = [302]
    create_hire(django_capture_on_commit_callbacks, owner)
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts[0]["error"] == "HTTP 302"
    assert delivery.status == WebhookDelivery.Status.PENDING


def test_it_runs_an_attempt_only_once(
    receiver, endpoint, owner, django_capture_on_commit_callbacks
):
    create_hire(django_capture_on_commit_callbacks, owner)
    delivery = WebhookDelivery.objects.get()
    assert tasks.deliver_webhook.call(delivery_id=delivery.pk, attempt=1) == "nothing to do"
    assert len(receiver.requests) == 1


def test_it_logs_an_unreachable_receiver_and_retries(
    endpoint, receiver, owner, django_capture_on_commit_callbacks
):
    receiver.close()  # nobody listens on the port any more
    create_hire(django_capture_on_commit_callbacks, owner)
    delivery = WebhookDelivery.objects.get()
    [attempt] = delivery.attempts
    assert attempt["status_code"] is None and attempt["error"]
    assert len(deferred()) == 1


# --- the address guard -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",
    ],
)
def test_it_refuses_a_private_address_by_default(people_ops, url):
    with pytest.raises(ValidationError) as error:
        services.webhook_endpoint_save(
            actor=people_ops,
            endpoint=WebhookEndpoint(name="Inside", url=url, events=ALL_EVENTS),
            expected_version=None,
        )
    assert "url" in error.value.message_dict
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http://user:pw@8.8.8.8/"]
)
def test_it_refuses_other_schemes_and_credentials(people_ops, url, private_allowed):
    with pytest.raises(ValidationError):
        webhooks.check_url(url)


def test_it_allows_a_private_address_with_the_setting(receiver, private_allowed):
    webhooks.check_url(receiver.url)


def test_it_checks_the_address_again_at_delivery_time(
    receiver, endpoint, owner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False  # as if DNS now pointed inside
    create_hire(django_capture_on_commit_callbacks, owner)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert "non-public address" in delivery.attempts[0]["error"]


# --- events ------------------------------------------------------------------------------------


def test_it_emits_each_event_from_its_service(
    endpoint, receiver, owner, hire, plan, django_capture_on_commit_callbacks
):
    assignment = AssignmentFactory(plan=plan)
    check_in = hire.check_ins.get(kind=CheckInKind.BASELINE)  # the plan's insert made it
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_create(actor=owner, hire=hire, title="Second plan")
        services.assignment_set_status(
            actor=owner, assignment=assignment, status=Assignment.Status.IN_PROGRESS
        )
        services.assignment_set_status(  # no change, no event
            actor=owner, assignment=assignment, status=Assignment.Status.IN_PROGRESS
        )
        services.check_in_record(actor=owner, check_in=check_in, ratings={}, complete=False)
        check_in.refresh_from_db()
        ratings = {c.pk: (2, "") for c in selectors.check_in_competencies(check_in)}
        services.check_in_record(actor=owner, check_in=check_in, ratings=ratings, complete=True)
    events = [json.loads(r["body"])["type"] for r in receiver.requests]
    assert events == ["plan.created", "assignment.status_changed", "checkin.completed"]
    status = json.loads(receiver.requests[1]["body"])["data"]
    assert status["previous_status"] == Assignment.Status.ASSIGNED
    assert status["status"] == Assignment.Status.IN_PROGRESS


def test_it_sends_nothing_for_a_write_that_rolled_back(
    endpoint, receiver, owner, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.hire_create(
            actor=owner,
            full_name="Rolled Back",
            email="rb@example.com",
            hiring_manager=owner,
            start_date=datetime.date(2026, 1, 5),
        )
        raise RuntimeError
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_it_sends_only_subscribed_events_to_active_endpoints(
    endpoint, receiver, owner, people_ops, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(events=["plan.created"])
    off = services.webhook_endpoint_save(
        actor=people_ops,
        endpoint=WebhookEndpoint(name="Off", url=receiver.url, events=ALL_EVENTS, active=False),
        expected_version=None,
    )
    create_hire(django_capture_on_commit_callbacks, owner)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.filter(endpoint=off).exists()


def test_it_records_many_events_in_one_insert(
    endpoint, people_ops, receiver, django_assert_num_queries, django_capture_on_commit_callbacks
):
    services.webhook_endpoint_save(
        actor=people_ops,
        endpoint=WebhookEndpoint(name="LMS", url=receiver.url, events=["hire.created"]),
        expected_version=None,
    )
    payloads = [{"id": n} for n in range(50)]
    # The endpoints, then one INSERT (inside a savepoint: two more).
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        django_assert_num_queries(4),
    ):
        deliveries = services.webhook_events_record(event="hire.created", payloads=payloads)
    assert len(deliveries) == 100
    assert len({d.message_id for d in deliveries}) == 100
    assert len(callbacks) == 1  # enqueued after the commit


# --- the admin ---------------------------------------------------------------------------------


def test_it_lets_people_ops_register_an_endpoint_in_the_admin(
    people_ops_client, people_ops, receiver, private_allowed
):
    response = people_ops_client.post(
        reverse("admin:onboarding_webhookendpoint_add"),
        {
            "name": "Chat",
            "url": receiver.url,
            "events": ["hire.created", "plan.created"],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.created_by == people_ops
    assert endpoint.events == ["hire.created", "plan.created"]
    assert endpoint.secret.startswith("whsec_")
    assert len(base64.b64decode(endpoint.secret.removeprefix("whsec_"))) == 24
    page = people_ops_client.get(
        reverse("admin:onboarding_webhookendpoint_change", args=[endpoint.pk])
    )
    assert endpoint.secret in page.content.decode()


def test_it_shows_a_refused_address_as_a_form_error(people_ops_client):
    response = people_ops_client.post(
        reverse("admin:onboarding_webhookendpoint_add"),
        {"name": "Inside", "url": "http://127.0.0.1/", "events": ["hire.created"]},
    )
    assert response.status_code == 200
    assert "non-public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_it_shows_deliveries_and_their_attempts_to_people_ops(
    people_ops_client, receiver, endpoint, owner, django_capture_on_commit_callbacks
):
    receiver.answers = [503]
    create_hire(django_capture_on_commit_callbacks, owner)
    delivery = WebhookDelivery.objects.get()
    listing = people_ops_client.get(reverse("admin:onboarding_webhookdelivery_changelist"))
    assert "hire.created" in listing.content.decode()
    page = people_ops_client.get(
        reverse("admin:onboarding_webhookdelivery_change", args=[delivery.pk])
    )
    assert page.status_code == 200
    assert "HTTP 503" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        people_ops_client.post(
            reverse("admin:onboarding_webhookdelivery_changelist"),
            {"action": "retry_now", "_selected_action": [delivery.pk]},
        )
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert [a["status_code"] for a in delivery.attempts] == [503, 200]


def test_it_sends_a_test_event_from_the_admin(
    people_ops_client, receiver, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        people_ops_client.post(
            reverse("admin:onboarding_webhookendpoint_changelist"),
            {"action": "send_test_event", "_selected_action": [endpoint.pk]},
        )
    [request] = receiver.requests
    assert verify(endpoint.secret, request["headers"], request["body"])["type"] == "webhook.test"


@pytest.mark.parametrize(
    "name", ["webhookendpoint_changelist", "webhookdelivery_changelist", "taskfailure_changelist"]
)
def test_it_keeps_webhooks_from_hiring_managers(owner, client, name):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    assert client.get(reverse(f"admin:onboarding_{name}")).status_code == 403


# --- lost tasks ----------------------------------------------------------------------------------


def test_it_resumes_a_delivery_whose_task_was_lost(receiver, endpoint, owner, hire):
    # Written as a service would, but its task never ran (say, Redis was emptied).
    [delivery] = services.webhook_events_record(
        event="hire.created", payloads=[webhooks.hire_payload(hire)]
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(hours=1)
    )
    fresh = services.webhook_events_record(event="hire.created", payloads=[{"id": 0}])[0]
    out = StringIO()
    call_command("webhooks_resume", stdout=out)
    assert "1 overdue" in out.getvalue()
    [request] = receiver.requests
    assert request["headers"]["webhook-id"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    fresh.refresh_from_db()
    assert fresh.status == WebhookDelivery.Status.PENDING  # its own task is still due


def test_it_marks_a_delivery_failed_at_once_where_no_retry_can_wait(
    receiver, endpoint, owner, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    receiver.answers = [500]
    create_hire(django_capture_on_commit_callbacks, owner)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.next_attempt_at is None


def test_it_sends_to_a_path_with_letters_beyond_ascii(
    receiver, private_allowed, people_ops, owner, django_capture_on_commit_callbacks
):
    services.webhook_endpoint_save(
        actor=people_ops,
        endpoint=WebhookEndpoint(name="Ü", url=receiver.url + "/ümlaut?x=1", events=ALL_EVENTS),
        expected_version=None,
    )
    create_hire(django_capture_on_commit_callbacks, owner)
    [request] = receiver.requests
    assert request["path"] == "/hooks/%C3%BCmlaut?x=1"
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


@pytest.mark.django_db(transaction=True)
def test_it_enqueues_many_deliveries_through_one_task(settings, receiver, people_ops):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    services.webhook_endpoint_save(
        actor=people_ops,
        endpoint=WebhookEndpoint(name="LMS", url=receiver.url, events=["hire.created"]),
        expected_version=None,
    )
    count = tasks.FAN_OUT_ABOVE + 2
    services.webhook_events_record(event="hire.created", payloads=[{"id": n} for n in range(count)])
    [queued] = DBTaskResult.objects.all()  # the request enqueued one task, not `count`
    assert queued.task_path == "onboarding.tasks.fan_out_webhook_deliveries"
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert len(receiver.requests) == count
    assert WebhookDelivery.objects.filter(status="delivered").count() == count
