"""The daily reminder digest: contents per manager, idempotence, dry run, concurrency."""

from __future__ import annotations

import datetime
import threading
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onboarding import reminders, services
from onboarding.models import Assignment, CheckIn, DigestDelivery, PlanGuidance, TrainingPlan

from .factories import (
    AssignmentFactory,
    HeldCertificationFactory,
    ManagerFactory,
    NewHireFactory,
    TrainingPlanFactory,
)

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
SITE = "https://onboarding.example.com"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def outbox(db) -> list:
    """The test outbox, taken after the database fixture has reset it.

    pytest-django's `mailoutbox` may hand out the list from before the db fixture's
    test-case set-up replaced `mail.outbox` when it is requested first.
    """
    return mail.outbox


def run(*args: str, date: datetime.date = TODAY, check_ins: bool = False) -> str:
    """Run the command. Unless `check_ins`, every check-in is completed first, so that a
    test about assignments or guidance sees only those (check-ins have their own tests)."""
    if not check_ins:
        CheckIn.objects.update(completed_at=timezone.now())
    out = StringIO()
    call_command("send_reminders", "--date", date.isoformat(), *args, stdout=out)
    return out.getvalue()


def emails_to(outbox, address: str) -> list:
    return [message for message in outbox if address in message.to]


def html_of(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def backdate(plan: TrainingPlan, days: int) -> None:
    TrainingPlan.objects.filter(pk=plan.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )


def overdue_for(manager, name: str, days: int = 3) -> Assignment:
    hire = NewHireFactory(hiring_manager=manager, full_name=name)
    plan = TrainingPlanFactory(hire=hire)
    return AssignmentFactory(plan=plan, due_date=TODAY - days * DAY)


# --- contents ------------------------------------------------------------------------------


def test_it_sends_each_manager_only_their_own_hires(outbox, owner, outsider, plan):
    late = AssignmentFactory(plan=plan, due_date=TODAY - 3 * DAY, course__title="Launch basics")
    soon = AssignmentFactory(plan=plan, due_date=TODAY + 7 * DAY, course__title="Pricing")
    overdue_for(outsider, "Otto Other")

    run()

    assert len(outbox) == 2
    [mine] = emails_to(outbox, owner.email)
    [theirs] = emails_to(outbox, outsider.email)
    assert "Hana Hire" in mine.body and "Otto Other" not in mine.body
    assert "Launch basics" in mine.body and "3 days overdue" in mine.body
    assert "Pricing" in mine.body
    assert "Otto Other" in theirs.body and "Hana Hire" not in theirs.body
    html = html_of(mine)
    assert "Hana Hire" in html and "Otto Other" not in html
    assert f'href="{SITE}/plans/{plan.pk}/"' in html
    assert f"{SITE}/plans/{plan.pk}/" in mine.body
    assert f"{SITE}/" in mine.body and f"{SITE}/account/" in mine.body
    assert "2 items" in mine.subject
    assert late.pk and soon.pk


def test_it_sends_nothing_to_people_ops_who_manage_no_hires(outbox, people_ops, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    run()
    assert emails_to(outbox, people_ops.email) == []
    assert len(outbox) == 1


def test_it_gives_people_ops_a_digest_of_only_the_hires_they_manage(
    outbox, people_ops, owner, plan
):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    overdue_for(people_ops, "Pia Peopleops")
    run()
    [digest] = emails_to(outbox, people_ops.email)
    assert "Pia Peopleops" in digest.body and "Hana Hire" not in digest.body


def test_it_sends_nothing_when_there_is_nothing_to_report(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY + 8 * DAY)  # beyond the 7-day window
    AssignmentFactory(
        plan=plan, due_date=TODAY - 5 * DAY, status="completed", completed_on=TODAY - DAY
    )
    AssignmentFactory(plan=plan, due_date=TODAY - 5 * DAY, status="waived")
    HeldCertificationFactory(hire=plan.hire, expires_on=TODAY + 91 * DAY)
    HeldCertificationFactory(
        hire=plan.hire, expires_on=TODAY - 31 * DAY, earned_on=TODAY - 400 * DAY
    )

    output = run()

    assert outbox == []
    assert not DigestDelivery.objects.exists()
    assert "0 digest(s) sent" in output


def test_it_leaves_out_archived_hires(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    services.hire_archive(actor=owner, hire=plan.hire)
    run()
    assert outbox == []


def test_it_lists_guidance_not_yet_discussed_on_plans_older_than_a_week(outbox, owner, plan):
    # The "mileage may vary" guidance is attached to every plan by the trigger.
    backdate(plan, 8)
    fresh = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner, full_name="Fay Fresh"))
    [attached] = PlanGuidance.objects.filter(plan=plan)

    run()

    [digest] = outbox
    assert "GUIDANCE NOT YET DISCUSSED (1)" in digest.body
    assert attached.guidance.title in digest.body
    assert "Fay Fresh" not in digest.body
    assert fresh.pk


def test_it_leaves_out_guidance_already_discussed(outbox, owner, plan):
    backdate(plan, 30)
    for attached in PlanGuidance.objects.filter(plan=plan):
        services.plan_guidance_update(actor=owner, plan_guidance=attached, discussed=True)
    run()
    assert outbox == []


def test_it_lists_certifications_expiring_soon_or_expired_recently(outbox, owner, hire):
    HeldCertificationFactory(
        hire=hire, certification__name="SAFe POPM", expires_on=TODAY + 90 * DAY
    )
    HeldCertificationFactory(
        hire=hire,
        certification__name="Old PMC",
        earned_on=TODAY - 400 * DAY,
        expires_on=TODAY - 2 * DAY,
    )
    HeldCertificationFactory(
        hire=hire, certification__name="Far future", expires_on=TODAY + 91 * DAY
    )

    run()

    [digest] = outbox
    assert "SAFe POPM" in digest.body and "expires in 90 days" in digest.body
    assert "Old PMC" in digest.body and "expired" in digest.body
    assert "Far future" not in digest.body
    assert f"{SITE}/hires/{hire.pk}/" in html_of(digest)


def test_it_sends_nothing_to_a_manager_who_turned_digests_off(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    services.digest_preference_set(user=owner, receives_digest=False)
    run()
    assert outbox == []


def test_it_sends_nothing_to_an_inactive_manager(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    owner.is_active = False
    owner.save()
    run()
    assert outbox == []


# --- idempotence, dry run, dates -------------------------------------------------------------


def test_it_sends_each_digest_once_a_day_however_often_it_runs(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    AssignmentFactory(plan=plan, due_date=TODAY + DAY)

    run()
    second = run()

    assert len(outbox) == 1
    assert "1 already sent" in second
    delivery = DigestDelivery.objects.get()
    assert delivery.recipient == owner and delivery.digest_date == TODAY
    assert delivery.sent_at is not None and delivery.item_count == 2


def test_it_sends_again_on_the_next_day(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    run()
    run(date=TODAY + DAY)
    assert len(outbox) == 2
    assert DigestDelivery.objects.count() == 2


def test_it_only_prints_and_records_nothing_on_a_dry_run(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY, course__title="Launch basics")
    out = StringIO()
    call_command("send_reminders", "--dry-run", "--verbosity", "2", stdout=out)
    output = out.getvalue()
    assert outbox == []
    assert not DigestDelivery.objects.exists()
    assert f"Would send to {owner.email}" in output
    assert "Launch basics" in output  # verbosity 2 prints the text part
    assert "1 digest(s) would be sent" in output


@pytest.mark.parametrize("raw", ["tomorrow", "2025-02-30", "24-05-2025", "2025-5-1", ""])
def test_it_refuses_a_date_it_cannot_read(db, raw):
    with pytest.raises(CommandError, match="--date must be a calendar date written YYYY-MM-DD"):
        call_command("send_reminders", "--date", raw or " ", stdout=StringIO())


def test_it_reports_on_the_given_date(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=datetime.date(2025, 3, 10))
    run(date=datetime.date(2025, 3, 4))  # due in 6 days then
    [digest] = outbox
    assert "4 March 2025" in digest.subject
    assert DigestDelivery.objects.get().digest_date == datetime.date(2025, 3, 4)


# --- failures and claims ---------------------------------------------------------------------


def test_it_releases_the_claim_when_sending_fails_so_a_later_run_retries(
    outbox, monkeypatch, owner, outsider, plan
):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    overdue_for(outsider, "Otto Other")
    real_send = mail.EmailMultiAlternatives.send

    def flaky_send(self, *args, **kwargs):
        if owner.email in self.to:
            raise OSError("SMTP server went away")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", flaky_send)
    with pytest.raises(CommandError, match=f"1 failed. Failed for: {owner.username}"):
        run()
    assert [m.to for m in outbox] == [[outsider.email]]
    assert list(DigestDelivery.objects.values_list("recipient", flat=True)) == [outsider.pk]

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", real_send)
    run()
    assert len(emails_to(outbox, owner.email)) == 1
    assert len(emails_to(outbox, outsider.email)) == 1


def test_it_lets_only_one_claim_win(owner):
    first = reminders.claim(owner, TODAY, 3)
    assert first is not None
    assert reminders.claim(owner, TODAY, 3) is None


def test_it_takes_over_a_claim_left_by_a_run_that_died(outbox, owner, plan):
    AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    DigestDelivery.objects.create(
        recipient=owner,
        digest_date=TODAY,
        claimed_at=timezone.now() - reminders.STALE_CLAIM - datetime.timedelta(minutes=1),
    )
    # The run that died never set sent_at; an hour later one new run may take it over.
    assert reminders.claim(owner, TODAY, 1) is not None
    assert reminders.claim(owner, TODAY, 1) is None


def test_it_does_not_take_over_a_fresh_claim(owner):
    DigestDelivery.objects.create(recipient=owner, digest_date=TODAY)
    assert reminders.claim(owner, TODAY, 1) is None


# --- query counts --------------------------------------------------------------------------


def _world(managers: int, hires_per_manager: int) -> None:
    for m in range(managers):
        manager = ManagerFactory()
        for h in range(hires_per_manager):
            plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=manager))
            backdate(plan, 10)
            AssignmentFactory(plan=plan, due_date=TODAY - (h + 1) * DAY)
            AssignmentFactory(plan=plan, due_date=TODAY + (h % 7) * DAY)
            HeldCertificationFactory(hire=plan.hire, expires_on=TODAY + (m + h + 1) * DAY)


@pytest.mark.parametrize("hires_per_manager", [1, 6])
def test_it_builds_all_digests_in_a_fixed_number_of_queries(
    db, django_assert_num_queries, hires_per_manager
):
    _world(managers=3, hires_per_manager=hires_per_manager)
    # Overdue, due soon, guidance, certifications, check-ins, evidence to review,
    # feedback received, recipients.
    with django_assert_num_queries(8):
        digests = reminders.build_digests(TODAY)
        for digest in digests:
            digest.context()
    assert len(digests) == 3
    assert all(len(d.overdue) == hires_per_manager for d in digests)


def test_it_sends_without_queries_growing_per_hire(db, outbox):
    def queries_for_run() -> int:
        with CaptureQueriesContext(connection) as captured:
            run()
        return len(captured)

    _world(managers=2, hires_per_manager=1)
    small = queries_for_run()
    DigestDelivery.objects.all().delete()
    for digest in reminders.build_digests(TODAY):
        for _ in range(5):
            plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=digest.recipient))
            AssignmentFactory(plan=plan, due_date=TODAY - DAY)
    large = queries_for_run()
    assert len(outbox) == 4
    assert large == small


# --- concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Needs PostgreSQL: SQLite serialises writers on one file lock, so two "
    "processes never race on the claim there. Run with DATABASE_URL=postgres://...",
)
@pytest.mark.django_db(transaction=True)
def test_it_sends_each_digest_once_when_two_processes_run_at_once(monkeypatch):
    managers = []
    for n in range(12):
        manager = ManagerFactory(username=f"racer{n}")
        plan = TrainingPlanFactory(hire=NewHireFactory(hiring_manager=manager))
        AssignmentFactory(plan=plan, due_date=TODAY - DAY)
        managers.append(manager)

    # Both runs read "nothing claimed yet" and then start at the same moment, so
    # every digest is decided by the race on the unique claim row alone.
    barrier = threading.Barrier(2)

    def racing_claimed_ids(digest_date):
        barrier.wait(timeout=30)
        return set()

    monkeypatch.setattr(reminders, "claimed_recipient_ids", racing_claimed_ids)
    results: list[reminders.RunResult] = []
    errors: list[BaseException] = []
    real_send_digests = reminders.send_digests

    def worker() -> None:
        try:
            results.append(real_send_digests(TODAY, log=lambda line: None))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == 2
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted(m.email for m in managers)
    assert sum(len(r.sent) for r in results) == len(managers)
    assert sum(len(r.already_sent) for r in results) == len(managers)
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == len(managers)


def test_it_lists_check_ins_due_this_week_and_overdue_ones(outbox, owner, outsider):
    hire = NewHireFactory(hiring_manager=owner, full_name="Rita Ramp", start_date=TODAY - 27 * DAY)
    TrainingPlanFactory(hire=hire)
    NewHireFactory(hiring_manager=outsider, full_name="Other Team")
    CheckIn.objects.filter(hire=hire, kind="baseline").update(completed_at=None)
    run(check_ins=True)
    [message] = emails_to(outbox, owner.email)
    # Baseline overdue since the start date; day 30 due in three days; day 60 not yet.
    assert "CHECK-INS DUE (2)" in message.body
    assert "Rita Ramp: Baseline check-in, overdue since" in message.body
    assert "Rita Ramp: Day 30 check-in, due" in message.body
    assert "Day 60" not in message.body
    day_30 = CheckIn.objects.get(hire=hire, kind="day_30")
    assert f"{SITE}/check-ins/{day_30.pk}/" in html_of(message)
    assert "Other Team" not in message.body
