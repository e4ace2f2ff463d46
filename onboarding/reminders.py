"""The daily reminder digest: what each hiring manager should hear about, and sending it.

Building the digests takes a fixed number of queries whatever the number of
managers and hires: one query per kind of item, grouped by manager in Python.

Sending is safe to run on several hosts at once. Each digest is *claimed* first
by inserting a DigestDelivery row (unique per recipient and day) in its own
transaction; only the process whose insert commits sends the email, every other
one gets an IntegrityError and skips it. A failed send deletes the claim so the
next run retries. A process killed between claiming and sending leaves a claim
without `sent_at`; after STALE_CLAIM it may be taken over by a later run (at most
one, through a conditional UPDATE), so a crash delays a digest instead of losing it.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import expiry, links
from .models import (
    Assignment,
    CheckIn,
    CourseFeedback,
    DigestDelivery,
    Evidence,
    HeldCertification,
    NewHire,
    PlanGuidance,
    User,
)
from .rules import DUE_SOON_DAYS, CheckInState, check_in_due_within_q, check_in_overdue_q

logger = logging.getLogger(__name__)

# Guidance still undiscussed on a plan older than this is worth a nudge.
GUIDANCE_NUDGE_AFTER_DAYS = 7
STALE_CLAIM = datetime.timedelta(hours=1)


def absolute_url(path: str) -> str:
    """A link for an email made outside a request: the configured site plus the path."""
    return links.absolute_url(path)


@dataclass
class Digest:
    """Everything one manager's digest lists for one day."""

    recipient: User
    date: datetime.date
    overdue: list[Assignment] = field(default_factory=list)
    due_soon: list[Assignment] = field(default_factory=list)
    guidance: list[PlanGuidance] = field(default_factory=list)
    certifications: list[HeldCertification] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    feedback: list[CourseFeedback] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return (
            len(self.overdue)
            + len(self.due_soon)
            + len(self.guidance)
            + len(self.certifications)
            + len(self.check_ins)
            + len(self.evidence)
            + len(self.feedback)
        )

    @property
    def is_empty(self) -> bool:
        return self.item_count == 0

    def context(self) -> dict:
        """Template context: the items with their links and labels already worked out."""

        def assignment_row(a: Assignment) -> dict:
            return {
                "hire": a.plan.hire.full_name,
                "course": a.course.title,
                "provider": a.course.provider,
                "due_date": a.due_date,
                "days": (a.due_date - self.date).days,
                "status": a.get_status_display(),
                "url": absolute_url(reverse("onboarding:plan_detail", args=[a.plan_id])),
            }

        return {
            "recipient": self.recipient,
            "date": self.date,
            "item_count": self.item_count,
            "overdue": [
                {**assignment_row(a), "days_overdue": (self.date - a.due_date).days}
                for a in self.overdue
            ],
            "due_soon": [assignment_row(a) for a in self.due_soon],
            "guidance": [
                {
                    "hire": pg.plan.hire.full_name,
                    "plan": pg.plan.title,
                    "title": pg.guidance.title,
                    "url": absolute_url(reverse("onboarding:plan_detail", args=[pg.plan_id])),
                }
                for pg in self.guidance
            ],
            "certifications": [
                {
                    "hire": held.hire.full_name,
                    "certification": str(held.certification),
                    "expires_on": held.expires_on,
                    "label": expiry.expiry_label(held, self.date),
                    "expired": expiry.is_expired(held, self.date),
                    "url": absolute_url(reverse("onboarding:hire_detail", args=[held.hire_id])),
                }
                for held in self.certifications
            ],
            "check_ins": [
                {
                    "hire": check_in.hire.full_name,
                    "kind": check_in.get_kind_display(),
                    "due_date": check_in.due_date,
                    "overdue": check_in.state(self.date) == CheckInState.OVERDUE,
                    "url": absolute_url(reverse("onboarding:check_in", args=[check_in.pk])),
                }
                for check_in in self.check_ins
            ],
            "evidence": [
                {
                    "hire": evidence.assignment.plan.hire.full_name,
                    "course": evidence.assignment.course.title,
                    "name": evidence.original_name,
                    "url": absolute_url(
                        reverse("onboarding:plan_detail", args=[evidence.assignment.plan_id])
                        + "#hire-activity"
                    ),
                }
                for evidence in self.evidence
            ],
            "feedback": [
                {
                    "hire": feedback.assignment.plan.hire.full_name,
                    "course": feedback.assignment.course.title,
                    "usefulness": feedback.usefulness,
                    "url": absolute_url(
                        reverse("onboarding:plan_detail", args=[feedback.assignment.plan_id])
                        + "#hire-activity"
                    ),
                }
                for feedback in self.feedback
            ],
            "dashboard_url": absolute_url(reverse("onboarding:home")),
            "profile_url": absolute_url(reverse("onboarding:profile")),
            "due_soon_days": DUE_SOON_DAYS,
        }


def build_digests(today: datetime.date | None = None) -> list[Digest]:
    """One digest per hiring manager with something to report, in eight queries.

    A manager here is an active user with digests on who manages at least one
    non-archived hire; only the hires they manage count (people-ops get a digest
    for their own hires, not for everyone they can see).
    """
    today = today or timezone.localdate()
    hire_scope = {
        "hire__archived_at__isnull": True,
        "hire__hiring_manager__is_active": True,
        "hire__hiring_manager__receives_digest": True,
    }
    plan_scope = {f"plan__{key}": value for key, value in hire_scope.items()}

    assignments = Assignment.objects.select_related("plan__hire", "course").order_by(
        "due_date", "plan__hire__full_name", "pk"
    )
    overdue = assignments.overdue(today).filter(**plan_scope)
    due_soon = assignments.due_within(DUE_SOON_DAYS, today).filter(**plan_scope)

    # Plans created before the start of (today - 7 days), in local time.
    cutoff = timezone.make_aware(
        datetime.datetime.combine(
            today - datetime.timedelta(days=GUIDANCE_NUDGE_AFTER_DAYS), datetime.time.min
        )
    )
    guidance = (
        PlanGuidance.objects.not_discussed()
        .filter(plan__created_at__lt=cutoff, **plan_scope)
        .select_related("plan__hire", "guidance")
        .order_by("plan__hire__full_name", "plan_id", "guidance__position", "pk")
    )
    certifications = (
        expiry.needing_attention(HeldCertification.objects.filter(**hire_scope), today)
        .select_related("hire", "certification")
        .order_by("expires_on", "hire__full_name", "pk")
    )

    check_ins = (
        CheckIn.objects.filter(
            check_in_overdue_q(today) | check_in_due_within_q(DUE_SOON_DAYS, today),
            **hire_scope,
        )
        .select_related("hire")
        .order_by("due_date", "hire__full_name", "pk")
    )

    assignment_scope = {f"assignment__plan__{key}": value for key, value in hire_scope.items()}
    evidence = (
        Evidence.objects.to_review()
        .filter(**assignment_scope)
        .select_related("assignment__course", "assignment__plan__hire")
        .order_by("uploaded_at", "pk")
    )
    # Feedback that arrived since the previous day's digest.
    since = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=1), datetime.time.min)
    )
    feedback = (
        CourseFeedback.objects.filter(submitted_at__gte=since, **assignment_scope)
        .select_related("assignment__course", "assignment__plan__hire")
        .order_by("submitted_at", "pk")
    )

    grouped: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for item in overdue:
        grouped[item.plan.hire.hiring_manager_id]["overdue"].append(item)
    for item in due_soon:
        grouped[item.plan.hire.hiring_manager_id]["due_soon"].append(item)
    for item in guidance:
        grouped[item.plan.hire.hiring_manager_id]["guidance"].append(item)
    for item in certifications:
        grouped[item.hire.hiring_manager_id]["certifications"].append(item)
    for item in check_ins:
        grouped[item.hire.hiring_manager_id]["check_ins"].append(item)
    for item in evidence:
        grouped[item.assignment.plan.hire.hiring_manager_id]["evidence"].append(item)
    for item in feedback:
        grouped[item.assignment.plan.hire.hiring_manager_id]["feedback"].append(item)

    if not grouped:
        return []
    recipients = User.objects.filter(pk__in=grouped).order_by("username")
    return [
        Digest(recipient=user, date=today, **grouped[user.pk])
        for user in recipients
        if any(grouped[user.pk].values())
    ]


def render_email(digest: Digest, connection=None) -> EmailMultiAlternatives:
    context = digest.context()
    subject = render_to_string("onboarding/email/digest_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("onboarding/email/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.recipient.email],
        connection=connection,
    )
    message.attach_alternative(
        render_to_string("onboarding/email/digest.html", context), "text/html"
    )
    return message


# --- the hires' weekly note ---------------------------------------------------------------

# The note lists what is due this far ahead.
HIRE_NOTE_DAYS_AHEAD = 14


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of `day`'s week: a hire's note is claimed once per week."""
    return day - datetime.timedelta(days=day.weekday())


@dataclass
class HireNote:
    """One hire's weekly note of what is due, sent to their own account."""

    recipient: User
    hire: NewHire
    date: datetime.date  # the Monday of the week
    today: datetime.date
    overdue: list[Assignment] = field(default_factory=list)
    due_soon: list[Assignment] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return len(self.overdue) + len(self.due_soon) + len(self.check_ins)

    def context(self) -> dict:
        return {
            "hire": self.hire,
            "today": self.today,
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "check_ins": self.check_ins,
            "days_ahead": HIRE_NOTE_DAYS_AHEAD,
            "plan_url": absolute_url(reverse("onboarding:me")),
            "preferences_url": absolute_url(reverse("onboarding:me") + "#preferences"),
        }


def build_hire_notes(today: datetime.date | None = None) -> list[HireNote]:
    """A note for each hire with an active account, the note on, and something due soon."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=HIRE_NOTE_DAYS_AHEAD)
    hires = {
        hire.pk: hire
        for hire in NewHire.objects.filter(
            archived_at__isnull=True,
            account__is_active=True,
            account__receives_digest=True,
        ).select_related("account")
    }
    if not hires:
        return []
    notes = {
        pk: HireNote(recipient=h.account, hire=h, date=week_start(today), today=today)
        for pk, h in hires.items()
    }
    assignments = (
        Assignment.objects.open()
        .filter(plan__hire_id__in=hires, due_date__lte=horizon)
        .select_related("course", "plan")
        .order_by("due_date", "pk")
    )
    for assignment in assignments:
        note = notes[assignment.plan.hire_id]
        (note.overdue if assignment.is_overdue(today) else note.due_soon).append(assignment)
    for check_in in CheckIn.objects.open().filter(hire_id__in=hires, due_date__lte=horizon):
        notes[check_in.hire_id].check_ins.append(check_in)
    return [note for note in notes.values() if note.item_count]


def render_hire_note(note: HireNote, connection=None) -> EmailMultiAlternatives:
    context = note.context()
    message = EmailMultiAlternatives(
        subject="Your onboarding: what is due",
        body=render_to_string("onboarding/email/hire_note.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[note.recipient.email],
        connection=connection,
    )
    message.attach_alternative(
        render_to_string("onboarding/email/hire_note.html", context), "text/html"
    )
    return message


# --- claims --------------------------------------------------------------------------------


def claim(recipient: User, digest_date: datetime.date, item_count: int) -> DigestDelivery | None:
    """Claim one digest for this process, or None when another run has it already.

    The insert commits in its own transaction before anything is sent: on
    PostgreSQL a concurrent insert of the same (recipient, date) waits for it and
    then fails on the unique constraint, so exactly one process wins.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(
                recipient=recipient, digest_date=digest_date, claimed_at=now, item_count=item_count
            )
    except IntegrityError:
        pass
    # Someone holds it. Take it over only if that run died before sending: the
    # conditional UPDATE matches for at most one of the processes trying.
    taken = DigestDelivery.objects.filter(
        recipient=recipient,
        digest_date=digest_date,
        sent_at__isnull=True,
        claimed_at__lt=now - STALE_CLAIM,
    ).update(claimed_at=now, item_count=item_count)
    if taken:
        return DigestDelivery.objects.get(recipient=recipient, digest_date=digest_date)
    return None


def release(delivery: DigestDelivery) -> None:
    """Give a claim back after a failed send, so that a later run retries."""
    DigestDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True).delete()


def mark_sent(delivery: DigestDelivery) -> None:
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["sent_at"])


def claimed_recipient_ids(digest_date: datetime.date) -> set[int]:
    """Recipients whose digest for the day is sent or on its way (one query)."""
    return set(
        DigestDelivery.objects.filter(digest_date=digest_date).values_list(
            "recipient_id", flat=True
        )
    )


# --- the run -------------------------------------------------------------------------------


@dataclass
class RunResult:
    sent: list[Digest] = field(default_factory=list)
    already_sent: list[Digest] = field(default_factory=list)
    skipped_no_email: list[Digest] = field(default_factory=list)
    failed: list[tuple[Digest, Exception]] = field(default_factory=list)


def send_digests(
    today: datetime.date | None = None,
    *,
    dry_run: bool = False,
    log: Callable[[str], None] = logger.info,
) -> RunResult:
    """Send the day's manager digests and the week's hire notes once each.

    With dry_run, only say what would be sent.
    """
    today = today or timezone.localdate()
    result = RunResult()
    # One mail connection for the whole run, opened on the first send.
    connection = None if dry_run else get_connection()
    state = {"opened": False}
    try:
        for items, claim_date, render in (
            (build_digests(today), today, render_email),
            (build_hire_notes(today), week_start(today), render_hire_note),
        ):
            _send_each(
                items,
                claim_date=claim_date,
                render=render,
                connection=connection,
                state=state,
                dry_run=dry_run,
                log=log,
                result=result,
            )
    finally:
        if state["opened"]:
            connection.close()
    return result


def _send_each(
    items: list,
    *,
    claim_date: datetime.date,
    render: Callable,
    connection,
    state: dict,
    dry_run: bool,
    log: Callable[[str], None],
    result: RunResult,
) -> None:
    """Claim, send and record each digest or note; a failure releases its claim."""
    claimed = claimed_recipient_ids(claim_date)
    for item in items:
        recipient = item.recipient
        if not recipient.email:
            log(f"Skipped {recipient.username}: no email address.")
            result.skipped_no_email.append(item)
            continue
        if recipient.pk in claimed:
            log(f"Already sent to {recipient.email} for {claim_date}.")
            result.already_sent.append(item)
            continue
        if dry_run:
            log(_describe(item, "Would send"))
            result.sent.append(item)
            continue
        delivery = claim(recipient, claim_date, item.item_count)
        if delivery is None:
            # Another process claimed it between our read and our insert.
            log(f"Already sent to {recipient.email} for {claim_date}.")
            result.already_sent.append(item)
            continue
        try:
            if not state["opened"]:
                connection.open()
                state["opened"] = True
            render(item, connection).send()
        except Exception as error:  # any failure must release the claim
            release(delivery)
            logger.exception("Email to %s failed; a later run retries.", recipient.email)
            result.failed.append((item, error))
            continue
        mark_sent(delivery)
        log(_describe(item, "Sent"))
        result.sent.append(item)


def _describe(digest: Digest | HireNote, verb: str) -> str:
    if isinstance(digest, HireNote):
        return (
            f"{verb} weekly note to {digest.recipient.email}: {len(digest.overdue)} overdue, "
            f"{len(digest.due_soon)} due soon, {len(digest.check_ins)} check-ins."
        )
    return (
        f"{verb} to {digest.recipient.email} ({digest.recipient.username}): "
        f"{len(digest.overdue)} overdue, {len(digest.due_soon)} due soon, "
        f"{len(digest.guidance)} guidance to discuss, "
        f"{len(digest.certifications)} certifications expiring."
    )
