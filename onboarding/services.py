"""Writes that touch several rows or models.

Every function is `<noun>_<verb>`, takes keyword-only arguments, runs inside one
transaction and records who acted (`actor`) in the change history. Views, the
admin, imports and commands call these rather than saving models themselves.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    IntegerField,
    Max,
    Model,
    Q,
    Value,
)
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import tasks, uploads, webhooks
from .models import (
    EARLIEST_DATE,
    LATEST_DATE,
    WEBHOOK_TEST_EVENT,
    ApiToken,
    Assignment,
    Certification,
    CheckIn,
    CompetencyRating,
    Course,
    CourseFeedback,
    Evidence,
    Guidance,
    HeldCertification,
    HireImport,
    HireInvitation,
    NewHire,
    PlanGuidance,
    PlanTemplate,
    PlanTemplateItem,
    TaskFailure,
    TrainingPlan,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .rules import LEVELS, is_hire_account, manager_candidates, may_manage, normalized_email
from .selectors import check_in_competencies

logger = logging.getLogger(__name__)

HIRE_FIELDS = (
    "full_name",
    "email",
    "title",
    "role_profile",
    "hiring_manager",
    "start_date",
    "new_to_product_management",
    "previous_role",
    "notes",
)
PLAN_FIELDS = ("title", "owner", "target_date")
ASSIGNMENT_FIELDS = (
    "due_date",
    "scheduled_for",
    "tuition_cost",
    "paid_by",
    "notes",
    "position",
)
HELD_CERTIFICATION_FIELDS = ("certification", "earned_on", "expires_on")


class StaleObjectError(Exception):
    """Someone else saved the object after the form was loaded.

    `current` is the object as it is now in the database, so the caller can
    show what changed instead of silently overwriting it.
    """

    def __init__(self, current: Model, changed: dict[str, tuple[object, object]]):
        self.current = current
        self.changed = changed
        names = ", ".join(changed) or "the record"
        super().__init__(f"Someone else changed {names} while you were editing.")


def lock_current(obj: Model, expected_version: int | None) -> Model:
    """Lock the row and refuse the write if it moved past `expected_version`.

    Call inside a transaction: the lock holds until it ends, so a second writer
    with the same expected version waits, then finds a newer one and is refused.
    """
    # _meta.model, not type(obj): request.user arrives wrapped in a SimpleLazyObject.
    current = obj._meta.model._default_manager.select_for_update().get(pk=obj.pk)
    if expected_version is not None and current.version != expected_version:
        changed = {
            field.name: (getattr(obj, field.attname), getattr(current, field.attname))
            for field in obj._meta.concrete_fields
            if field.editable
            and not field.primary_key
            and getattr(obj, field.attname) != getattr(current, field.attname)
        }
        raise StaleObjectError(current, changed)
    return current


def _save(obj: Model, *, actor: User | None, fields: Iterable[str]) -> None:
    obj._history_user = actor
    update_fields = set(fields)
    if hasattr(obj, "version") and obj.pk:
        obj.version += 1
        update_fields.add("version")
    if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
        update_fields.add("updated_at")
    obj.save(update_fields=sorted(update_fields))


def _update(
    obj: Model,
    *,
    actor: User | None,
    allowed: Iterable[str],
    changes: Mapping[str, object],
    expected_version: int | None,
) -> Model:
    """Apply field `changes` to `obj` and save them, unless the row moved meanwhile.

    Returns the row as it was in the database before the save.
    """
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"cannot change {', '.join(sorted(unknown))} of a {obj._meta.model_name}")
    for name, value in changes.items():
        setattr(obj, name, value)
    current = lock_current(obj, expected_version)
    obj.version = current.version
    obj.full_clean()
    _save(obj, actor=actor, fields=changes)
    return current


def _check_may_manage(actor: User | None, field: str, user: User, current: User | None) -> None:
    """The one who-may-manage rule (rules.manager_candidates), for writes made by a person."""
    if actor is not None and user is not None and not may_manage(actor, user, current):
        raise ValidationError(
            {field: f"{user} cannot be chosen here: pick someone who may manage hires."}
        )


# --- hires ---------------------------------------------------------------------------------


def _new_hire(
    *,
    full_name: str,
    email: str,
    hiring_manager: User,
    start_date: datetime.date,
    title: str = "Product Manager",
    role_profile=None,
    new_to_product_management: bool = False,
    previous_role: str = "",
    notes: str = "",
) -> NewHire:
    """The unsaved hire that hire_create and hire_bulk_import both write."""
    return NewHire(
        full_name=full_name.strip(),
        email=normalized_email(email),
        title=title.strip(),
        role_profile=role_profile,
        hiring_manager=hiring_manager,
        start_date=start_date,
        new_to_product_management=new_to_product_management,
        previous_role=previous_role.strip(),
        notes=notes,
    )


@transaction.atomic
def hire_create(
    *,
    actor: User | None,
    full_name: str,
    email: str,
    hiring_manager: User,
    start_date: datetime.date,
    title: str = "Product Manager",
    role_profile=None,
    new_to_product_management: bool = False,
    previous_role: str = "",
    notes: str = "",
    change_reason: str | None = None,
) -> NewHire:
    """A new hire; `change_reason` goes into its first history row (an import names
    its batch there, so the hires list can show that import's hires)."""
    _check_may_manage(actor, "hiring_manager", hiring_manager, None)
    hire = _new_hire(
        full_name=full_name,
        email=email,
        title=title,
        role_profile=role_profile,
        hiring_manager=hiring_manager,
        start_date=start_date,
        new_to_product_management=new_to_product_management,
        previous_role=previous_role,
        notes=notes,
    )
    hire.full_clean()
    hire._history_user = actor
    hire._change_reason = change_reason
    hire.save()
    webhook_events_record(event=WebhookEvent.HIRE_CREATED, payloads=[webhooks.hire_payload(hire)])
    return hire


@transaction.atomic
def hire_update(
    *,
    actor: User | None,
    hire: NewHire,
    expected_version: int | None = None,
    **changes: object,
) -> NewHire:
    """Apply `changes` (fields of HIRE_FIELDS) unless someone saved the hire meanwhile."""
    if "hiring_manager" in changes:
        current = NewHire.objects.filter(pk=hire.pk).values_list("hiring_manager", flat=True)
        current_manager = User.objects.filter(pk__in=current).first()
        _check_may_manage(actor, "hiring_manager", changes["hiring_manager"], current_manager)
    before = _update(
        hire,
        actor=actor,
        allowed=HIRE_FIELDS,
        changes=changes,
        expected_version=expected_version,
    )
    if hire.new_to_product_management and not before.new_to_product_management:
        for plan in hire.plans.all():
            plan_guidance_sync(plan=plan)
    return hire


@transaction.atomic
def hire_archive(*, actor: User | None, hire: NewHire) -> NewHire:
    """Hide the hire from the default lists; their own account stops working."""
    if hire.archived_at is None:
        hire.archived_at = timezone.now()
        _save(hire, actor=actor, fields=["archived_at"])
        if hire.account_id is not None:
            User.objects.filter(pk=hire.account_id).update(is_active=False)
    return hire


@transaction.atomic
def hire_unarchive(*, actor: User | None, hire: NewHire) -> NewHire:
    """Back in the lists; an account that had signed in works again."""
    if hire.archived_at is not None:
        hire.archived_at = None
        _save(hire, actor=actor, fields=["archived_at"])
        if hire.account_id is not None:
            User.objects.filter(pk=hire.account_id).update(is_active=True)
    return hire


# --- several hires at once: the one-at-a-time services, all or nothing ----------------------

BULK_ACTIONS = ("plan", "archive", "manager")


def _each_hire(hires: Sequence[NewHire], write: Callable[[NewHire], object]) -> list:
    """`write` for every hire in one transaction; the first refusal undoes them all and
    names the hire it was about."""
    done = []
    for hire in hires:
        try:
            done.append(write(hire))
        except ValidationError as error:
            raise ValidationError(f"{hire.full_name}: {' '.join(error.messages)}") from error
    return done


@transaction.atomic
def hire_bulk_plan_create(
    *, actor: User | None, hires: Sequence[NewHire], template: PlanTemplate
) -> list[TrainingPlan]:
    """A plan from `template` for each hire, as plan_create would make it one by one."""
    return _each_hire(hires, lambda hire: plan_create(actor=actor, hire=hire, template=template))


@transaction.atomic
def hire_bulk_archive(*, actor: User | None, hires: Sequence[NewHire]) -> list[NewHire]:
    return _each_hire(hires, lambda hire: hire_archive(actor=actor, hire=hire))


@transaction.atomic
def hire_bulk_reassign(
    *, actor: User | None, hires: Sequence[NewHire], hiring_manager: User
) -> list[NewHire]:
    """Give every hire another hiring manager (who-may-manage rules as for one hire)."""
    return _each_hire(
        hires, lambda hire: hire_update(actor=actor, hire=hire, hiring_manager=hiring_manager)
    )


# --- a cohort at once: the import's bulk write ------------------------------------------------

IMPORT_CHUNK = 500


class BulkRowError(ValidationError):
    """A refusal about one row of a bulk write: `index` is its place in `rows`."""

    def __init__(self, index: int, error: ValidationError):
        super().__init__(error)
        self.index = index


@transaction.atomic
def hire_bulk_import(
    *,
    actor: User | None,
    rows: Sequence[Mapping[str, object]],
    template: PlanTemplate | None = None,
    change_reason: str | None = None,
    progress: Callable[[int], object] | None = None,
    chunk_size: int | None = None,
) -> list[NewHire]:
    """hire_create for every row (keyword arguments as hire_create takes them) and, with
    `template`, plan_create from it: the same rows, written in bulk, all or nothing.

    Hires, plans, assignments and guidance go in with a few INSERTs per chunk of
    `chunk_size` (IMPORT_CHUNK) rows instead of a dozen queries per hire, their
    history rows with an INSERT ... SELECT per table (_bulk_history). The database
    triggers do on these inserts what they do on single ones: the "mileage may vary"
    guidance and the four check-ins of each plan, and the PlanProgress and DailyTotals
    rollups. One difference: the one-at-a-time path saves a new plan twice (the target
    date comes after the assignments), so its history has a second row; here the plan
    is inserted with its target date, in one history row.

    A row that breaks a rule raises BulkRowError naming the row; `progress` is
    called with the number of rows written after each chunk.
    """
    hires: list[NewHire] = []
    items = (
        list(template.items.select_related("course__certification").order_by("position", "id"))
        if template is not None
        else []
    )
    guidance = list(Guidance.objects.filter(active=True).order_by("position"))
    _bulk_check_managers(actor, rows)
    chunk_size = chunk_size or IMPORT_CHUNK
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        new_hires = [_new_hire(**row) for row in chunk]
        _bulk_check_hires(new_hires, first_index=start)
        new_hires = NewHire.objects.bulk_create(new_hires)
        _bulk_history(NewHire, new_hires, actor=actor, change_reason=change_reason)
        # The events hire_create and plan_create send, in one insert per chunk.
        webhook_events_record(
            event=WebhookEvent.HIRE_CREATED,
            payloads=[webhooks.hire_payload(hire) for hire in new_hires],
        )
        if template is not None:
            plans = _bulk_plans(actor, new_hires, template, items, guidance, first_index=start)
            webhook_events_record(
                event=WebhookEvent.PLAN_CREATED,
                payloads=[webhooks.plan_payload(plan) for plan in plans],
            )
        hires += new_hires
        if progress is not None:
            progress(len(hires))
    return hires


def _bulk_check_managers(actor: User | None, rows: Sequence[Mapping[str, object]]) -> None:
    """hire_create's who-may-manage check, asked once per manager instead of per hire."""
    if actor is None:
        return
    managers = {row["hiring_manager"].pk for row in rows}
    allowed = set(manager_candidates(actor).filter(pk__in=managers).values_list("pk", flat=True))
    for index, row in enumerate(rows):
        if row["hiring_manager"].pk not in allowed:
            user = row["hiring_manager"]
            raise BulkRowError(
                index,
                ValidationError(
                    {
                        "hiring_manager": f"{user} cannot be chosen here: pick someone who "
                        "may manage hires."
                    }
                ),
            )


def _bulk_check_hires(hires: list[NewHire], *, first_index: int) -> None:
    """hire_create's full_clean, with its per-hire queries done once for the chunk.

    The role profiles and managers arrive as rows read from the database, and the
    email check becomes one query; the unique index stays the last word on a race.
    """
    emails = [hire.email for hire in hires]
    taken = set(
        NewHire.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .values_list("email_lower", flat=True)
    )
    seen: set[str] = set()
    for offset, hire in enumerate(hires):
        try:
            hire.clean_fields(exclude=["role_profile", "hiring_manager"])
            if hire.email in taken or hire.email in seen:
                raise ValidationError({"email": "Another hire already uses this email address."})
        except ValidationError as error:
            raise BulkRowError(first_index + offset, error) from None
        seen.add(hire.email)


def _bulk_plans(
    actor: User | None,
    hires: list[NewHire],
    template: PlanTemplate,
    items: list[PlanTemplateItem],
    guidance: list[Guidance],
    *,
    first_index: int,
) -> list[TrainingPlan]:
    """plan_create(template=...) for each hire: plans, assignments, then guidance."""
    plans, assignments_of = [], []
    for offset, hire in enumerate(hires):
        assignments = []
        for position, item in enumerate(items):
            due = hire.start_date + datetime.timedelta(days=item.due_offset_days)
            if not EARLIEST_DATE <= due <= LATEST_DATE:  # plan_template_check
                raise BulkRowError(
                    first_index + offset,
                    ValidationError(
                        {
                            "template": f"{item.course.title} would be due on "
                            f"{due.isoformat()}, after {LATEST_DATE.year}: check the hire's "
                            "start date."
                        }
                    ),
                )
            tuition, paid_by = _default_payment(item.course)
            assignments.append(
                Assignment(
                    course=item.course,
                    due_date=due,
                    tuition_cost=tuition,
                    paid_by=paid_by,
                    position=position,
                )
            )
        if offset == 0:
            # Only the due date differs between hires (and is checked above), so the
            # other fields of the template's assignments are validated once.
            for assignment in assignments:
                try:
                    assignment.clean_fields(exclude=["plan", "course"])
                except ValidationError as error:
                    raise BulkRowError(
                        first_index,
                        ValidationError(f"{assignment.course.title}: {' '.join(error.messages)}"),
                    ) from None
        plan = TrainingPlan(
            hire=hire,
            title=template.name,
            owner=hire.hiring_manager,
            template=template,
            target_date=max((a.due_date for a in assignments), default=None),
        )
        try:
            plan.clean_fields(exclude=["hire", "owner", "template"])
        except ValidationError as error:
            raise BulkRowError(first_index + offset, error) from None
        plans.append(plan)
        assignments_of.append(assignments)
    # The triggers attach the "always" guidance and make the check-ins on this insert.
    plans = TrainingPlan.objects.bulk_create(plans)
    _bulk_history(TrainingPlan, plans, actor=actor)
    rows = []
    for plan, assignments in zip(plans, assignments_of, strict=True):
        for assignment in assignments:
            assignment.plan = plan
            rows.append(assignment)
    _bulk_history(Assignment, Assignment.objects.bulk_create(rows), actor=actor)

    # plan_guidance_sync for each plan, from what was just built rather than queried.
    attached = set(
        PlanGuidance.objects.filter(plan__in=plans).values_list("plan_id", "guidance_id")
    )
    attachments = []
    for plan, assignments in zip(plans, assignments_of, strict=True):
        rules = _guidance_rules(plan.hire, assignments)
        attachments += [
            PlanGuidance(plan=plan, guidance=g, body=g.body)
            for g in guidance
            if g.rule in rules and (plan.pk, g.pk) not in attached
        ]
    _bulk_history(PlanGuidance, PlanGuidance.objects.bulk_create(attachments), actor=actor)
    return plans


def _bulk_history(
    model: type[Model],
    objs: Sequence[Model],
    *,
    actor: User | None,
    change_reason: str | None = None,
) -> None:
    """The "+" history rows of `objs`, just inserted: what bulk_create_with_history
    writes, copied by the database (INSERT ... SELECT) instead of built as a Python
    object per row, which was half the time of a 2,000-hire import."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or not objs:
        return
    history = model.history.model
    tracked = [field.attname for field in history.tracked_fields]
    now = timezone.now()
    columns = ", ".join(
        connection.ops.quote_name(name)
        for name in [
            *(history._meta.get_field(attname).column for attname in tracked),
            "history_date",
            "history_user_id",
            "history_change_reason",
            "history_type",
        ]
    )
    pks = [obj.pk for obj in objs]
    step = 900  # under SQLite's 999 parameters per statement
    with connection.cursor() as cursor:
        for start in range(0, len(pks), step):
            select = (
                model._base_manager.filter(pk__in=pks[start : start + step])
                .order_by("pk")
                .annotate(
                    h_date=Value(now, DateTimeField()),
                    h_user=Value(actor.pk if actor else None, IntegerField()),
                    h_reason=Value(change_reason, CharField()),
                    h_type=Value("+", CharField()),
                )
                .values_list(*tracked, "h_date", "h_user", "h_reason", "h_type")
            )
            sql, params = select.query.sql_with_params()
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(history._meta.db_table)} "
                f"({columns}) {sql}",
                params,
            )


def _guidance_rules(hire: NewHire, assignments: list[Assignment]) -> set[str]:
    """plan_guidance_rules for a plan not read back from the database."""
    rules = {Guidance.Rule.ALWAYS}
    if any(a.course.certification_id for a in assignments):
        rules.add(Guidance.Rule.CERTIFICATION_COURSE)
    if any(
        a.course.certification_id and a.course.certification.framework_bound for a in assignments
    ):
        rules.add(Guidance.Rule.FRAMEWORK_CERTIFICATION)
    if hire.new_to_product_management:
        rules.add(Guidance.Rule.NEW_TO_PM)
    if any(
        a.paid_by == Assignment.PaidBy.EMPLOYER
        and a.tuition_cost is not None
        and a.tuition_cost > 0
        for a in assignments
    ):
        rules.add(Guidance.Rule.EMPLOYER_PAID)
    return rules


# --- import runs: the record the background import keeps ------------------------------------


@transaction.atomic
def hire_import_start(
    *,
    actor: User,
    content: bytes,
    file_name: str,
    template: PlanTemplate | None,
    rows_total: int,
) -> HireImport:
    """Record an import and start its task once this transaction commits (a worker
    must find the row; and an import rolled back must not run)."""
    run = HireImport.objects.create(
        created_by=actor,
        file_name=file_name[:200],
        content=content,
        template=template,
        with_plans=template is not None,
        batch=secrets.token_urlsafe(9),
        rows_total=rows_total,
    )
    transaction.on_commit(lambda: _hire_import_enqueue(run))
    return run


def _hire_import_enqueue(run: HireImport) -> None:
    from .import_tasks import hire_import_task  # that module imports this one

    try:
        hire_import_task.enqueue(run.pk)
    except Exception:
        # The queue is another server (Redis) that may be down: the run says so
        # instead of staying queued for ever, and the page does not answer 500.
        logger.exception("Could not enqueue hire import %s", run.pk)
        hire_import_update(
            run=run,
            status=HireImport.Status.FAILED,
            error_message="The import could not be started (the task queue is unavailable). "
            "Nothing was imported; try again in a few minutes.",
            finished_at=timezone.now(),
            content=b"",
        )


@transaction.atomic
def hire_import_claim(*, run_id: int) -> HireImport | None:
    """Mark a queued run as running and return it; None when it is not queued any more
    (a second delivery of the same task, or a run already finished)."""
    claimed = HireImport.objects.filter(pk=run_id, status=HireImport.Status.QUEUED).update(
        status=HireImport.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    return HireImport.objects.select_related("created_by", "template").get(pk=run_id)


def hire_import_progress_aside(*, run: HireImport, rows_done: int) -> bool:
    """Record the rows an import has written so far, from outside its transaction.

    The import writes every hire in one transaction (all or nothing), so the count
    written inside it cannot be seen until it commits. On PostgreSQL a second
    connection records it and commits at once, so the page's bar moves chunk by
    chunk; the final count commits with the hires. SQLite lets one connection write
    at a time and the import's transaction holds that lock, so there nothing is
    recorded (returns False) and the bar moves when the write commits. Deliberately
    not atomic with the caller: that is the point.
    """
    if connection.vendor != "postgresql":
        return False
    aside = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with aside.cursor() as cursor:
            cursor.execute(
                "UPDATE onboarding_hireimport SET rows_done = %s WHERE id = %s AND status = %s",
                [rows_done, run.pk, HireImport.Status.RUNNING],
            )
    finally:
        aside.close()
    return True


@transaction.atomic
def hire_import_update(*, run: HireImport, **changes: object) -> HireImport:
    """Record how far a run got (counts, status, error, times)."""
    for name, value in changes.items():
        setattr(run, name, value)
    run.save(update_fields=sorted(changes))
    return run


# --- plans ---------------------------------------------------------------------------------


def plan_template_due_dates(
    *, template: PlanTemplate, start_date: datetime.date
) -> list[tuple[PlanTemplateItem, datetime.date]]:
    """Each template item with its due date for a hire starting on `start_date`."""
    return [
        (item, start_date + datetime.timedelta(days=item.due_offset_days))
        for item in template.items.select_related("course__certification").order_by(
            "position", "id"
        )
    ]


def _default_payment(course: Course) -> tuple[Decimal | None, str]:
    if course.tuition is not None and course.tuition == 0:
        return None, Assignment.PaidBy.FREE
    return course.tuition, Assignment.PaidBy.EMPLOYER


def plan_template_check(*, template: PlanTemplate, start_date: datetime.date) -> None:
    """Refuse a template whose due dates would fall outside the dates the product keeps."""
    for item, due in plan_template_due_dates(template=template, start_date=start_date):
        if not EARLIEST_DATE <= due <= LATEST_DATE:
            raise ValidationError(
                {
                    "template": f"{item.course.title} would be due on {due.isoformat()}, "
                    f"after {LATEST_DATE.year}: check the hire's start date."
                }
            )


@transaction.atomic
def plan_create(
    *,
    actor: User | None,
    hire: NewHire,
    title: str = "",
    template: PlanTemplate | None = None,
    owner: User | None = None,
    target_date: datetime.date | None = None,
    due_dates: Mapping[int, datetime.date] | None = None,
) -> TrainingPlan:
    """Create a plan, blank or from a template (see plan_template_apply).

    The database attaches the "mileage may vary" guidance on insert; rule-based
    guidance is attached here once the assignments exist.
    """
    owner = owner or hire.hiring_manager
    _check_may_manage(actor, "owner", owner, hire.hiring_manager)
    plan = TrainingPlan(
        hire=hire,
        title=title.strip() or (template.name if template else "Training plan"),
        owner=owner,
        template=template,
        target_date=target_date,
    )
    plan.full_clean()
    plan._history_user = actor
    plan.save()
    if template is not None:
        plan_template_apply(actor=actor, plan=plan, template=template, due_dates=due_dates)
    else:
        plan_guidance_sync(plan=plan)
    webhook_events_record(event=WebhookEvent.PLAN_CREATED, payloads=[webhooks.plan_payload(plan)])
    return plan


@transaction.atomic
def plan_template_apply(
    *,
    actor: User | None,
    plan: TrainingPlan,
    template: PlanTemplate,
    due_dates: Mapping[int, datetime.date] | None = None,
) -> list[Assignment]:
    """Add the template's courses that the plan does not have yet.

    Each course is due `due_offset_days` after the hire's start date unless
    `due_dates` (template item id -> date) says otherwise. A plan without a
    target date gets the last due date; a plan without a template gets this one.
    """
    start_date = plan.hire.start_date
    if not due_dates:
        plan_template_check(template=template, start_date=start_date)
    due_dates = due_dates or {}
    present = set(plan.assignments.values_list("course_id", flat=True)) if plan.pk else set()
    last = plan.assignments.aggregate(last=Max("position"))["last"]
    first_position = 0 if last is None else last + 1
    assignments = []
    for item, due in plan_template_due_dates(template=template, start_date=start_date):
        if item.course_id in present:
            continue
        tuition, paid_by = _default_payment(item.course)
        assignments.append(
            Assignment(
                plan=plan,
                course=item.course,
                due_date=due_dates.get(item.pk, due),
                tuition_cost=tuition,
                paid_by=paid_by,
                position=first_position + len(assignments),
            )
        )
    for assignment in assignments:
        try:
            # The course comes from the template item, so it exists: checking it
            # again cost a query per assignment (a sixth of a 2,000-hire import).
            assignment.clean_fields(exclude=["plan", "course"])
        except ValidationError as error:
            # bulk_create skips model validation, so due dates are checked here.
            raise ValidationError(
                f"{assignment.course.title}: {' '.join(error.messages)}"
            ) from None
    bulk_create_with_history(assignments, Assignment, default_user=actor)
    fields = []
    if plan.template_id is None:
        plan.template = template
        fields.append("template")
    if plan.target_date is None and assignments:
        plan.target_date = max(a.due_date for a in assignments)
        fields.append("target_date")
    if fields:
        plan.save(update_fields=fields)
    plan_guidance_sync(plan=plan)
    return assignments


@transaction.atomic
def plan_update(
    *,
    actor: User | None,
    plan: TrainingPlan,
    expected_version: int | None = None,
    **changes: object,
) -> TrainingPlan:
    if "owner" in changes:
        current = TrainingPlan.objects.filter(pk=plan.pk).values_list("owner", flat=True)
        current_owner = User.objects.filter(pk__in=current).first()
        _check_may_manage(actor, "owner", changes["owner"], current_owner)
    _update(
        plan, actor=actor, allowed=PLAN_FIELDS, changes=changes, expected_version=expected_version
    )
    return plan


# --- assignments ---------------------------------------------------------------------------


@transaction.atomic
def assignment_add(
    *,
    actor: User | None,
    plan: TrainingPlan,
    course: Course,
    due_date: datetime.date,
    scheduled_for: datetime.date | None = None,
    tuition_cost: Decimal | None = None,
    paid_by: str | None = None,
    notes: str = "",
    position: int | None = None,
) -> Assignment:
    """Add a course to a plan, at the end unless `position` says where."""
    default_tuition, default_payer = _default_payment(course)
    if plan.assignments.filter(course=course).exists():
        raise ValidationError({"course": "This course is already in the plan."})
    if position is None:
        last = plan.assignments.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    assignment = Assignment(
        plan=plan,
        course=course,
        due_date=due_date,
        scheduled_for=scheduled_for,
        status=Assignment.Status.SCHEDULED if scheduled_for else Assignment.Status.ASSIGNED,
        tuition_cost=tuition_cost if tuition_cost is not None else default_tuition,
        paid_by=paid_by or default_payer,
        notes=notes,
        position=position,
    )
    assignment.full_clean()
    assignment._history_user = actor
    assignment.save()
    plan_guidance_sync(plan=plan)
    return assignment


@transaction.atomic
def assignment_update(
    *,
    actor: User | None,
    assignment: Assignment,
    expected_version: int | None = None,
    **changes: object,
) -> Assignment:
    _update(
        assignment,
        actor=actor,
        allowed=ASSIGNMENT_FIELDS,
        changes=changes,
        expected_version=expected_version,
    )
    plan_guidance_sync(plan=assignment.plan)
    return assignment


@transaction.atomic
def assignment_set_status(
    *,
    actor: User | None,
    assignment: Assignment,
    status: str,
    completed_on: datetime.date | None = None,
    certification_earned_on: datetime.date | None = None,
    certification_expires_on: datetime.date | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Assignment:
    """Move an assignment to `status`, keeping the completion rules.

    Completing needs a date (today by default) and may record a certification
    the hire earned through it; waiving needs a reason and clears the dates;
    any other status reopens the assignment.
    """
    if status not in Assignment.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    current = lock_current(assignment, expected_version)
    assignment.version = current.version
    fields = ["status", "completed_on", "certification_earned_on"]
    assignment.status = status
    if status == Assignment.Status.COMPLETED:
        assignment.completed_on = completed_on or timezone.localdate()
        assignment.certification_earned_on = certification_earned_on
    else:
        assignment.completed_on = None
        assignment.certification_earned_on = None
    if status == Assignment.Status.WAIVED:
        if not reason.strip():
            raise ValidationError({"reason": "Say why the course is waived."})
        note = f"Waived: {reason.strip()}"
        assignment.notes = f"{assignment.notes}\n{note}".strip() if assignment.notes else note
        fields.append("notes")
    assignment.full_clean()
    if (
        certification_earned_on
        and certification_expires_on
        and certification_expires_on < certification_earned_on
    ):
        raise ValidationError(
            {"certification_expires_on": "It cannot expire before it was earned."}
        )
    _save(assignment, actor=actor, fields=fields)
    if certification_earned_on:
        HeldCertification.objects.update_or_create(
            hire=assignment.plan.hire,
            certification=assignment.course.certification,
            earned_on=certification_earned_on,
            defaults={"assignment": assignment, "expires_on": certification_expires_on},
        )
    if current.status != status:
        webhook_events_record(
            event=WebhookEvent.ASSIGNMENT_STATUS_CHANGED,
            payloads=[webhooks.assignment_payload(assignment, previous_status=current.status)],
        )
    return assignment


@transaction.atomic
def assignment_change(
    *,
    actor: User | None,
    assignment: Assignment,
    expected_version: int | None = None,
    status: str | None = None,
    completed_on: datetime.date | None = None,
    certification_earned_on: datetime.date | None = None,
    certification_expires_on: datetime.date | None = None,
    reason: str = "",
    **changes: object,
) -> Assignment:
    """Field changes and a status change in one write, refused whole if stale (the API's
    PATCH): the fields as assignment_update, the status as assignment_set_status."""
    if changes:
        assignment_update(
            actor=actor, assignment=assignment, expected_version=expected_version, **changes
        )
        expected_version = assignment.version
    if status is not None:
        assignment_set_status(
            actor=actor,
            assignment=assignment,
            status=status,
            completed_on=completed_on,
            certification_earned_on=certification_earned_on,
            certification_expires_on=certification_expires_on,
            reason=reason,
            expected_version=expected_version,
        )
    elif not changes:
        lock_current(assignment, expected_version)
    return assignment


def assignment_complete(
    *,
    actor: User | None,
    assignment: Assignment,
    completed_on: datetime.date | None = None,
    certification_earned_on: datetime.date | None = None,
    certification_expires_on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Assignment:
    return assignment_set_status(
        actor=actor,
        assignment=assignment,
        status=Assignment.Status.COMPLETED,
        completed_on=completed_on,
        certification_earned_on=certification_earned_on,
        certification_expires_on=certification_expires_on,
        expected_version=expected_version,
    )


def assignment_waive(
    *,
    actor: User | None,
    assignment: Assignment,
    reason: str,
    expected_version: int | None = None,
) -> Assignment:
    return assignment_set_status(
        actor=actor,
        assignment=assignment,
        status=Assignment.Status.WAIVED,
        reason=reason,
        expected_version=expected_version,
    )


def assignment_reopen(
    *, actor: User | None, assignment: Assignment, expected_version: int | None = None
) -> Assignment:
    status = Assignment.Status.SCHEDULED if assignment.scheduled_for else Assignment.Status.ASSIGNED
    return assignment_set_status(
        actor=actor, assignment=assignment, status=status, expected_version=expected_version
    )


@transaction.atomic
def assignment_remove(
    *, actor: User | None, assignment: Assignment, expected_version: int | None = None
) -> None:
    """Take a course out of a plan; the history keeps a record of it. With
    `expected_version`, refuses (StaleObjectError) if someone changed it since."""
    lock_current(assignment, expected_version)
    assignment._history_user = actor
    assignment.delete()


@transaction.atomic
def assignment_move(*, actor: User | None, assignment: Assignment, offset: int) -> None:
    """Move an assignment up (-1) or down (+1) in its plan, renumbering positions."""
    siblings = list(assignment.plan.assignments.select_for_update().order_by("position", "id"))
    index = next(i for i, a in enumerate(siblings) if a.pk == assignment.pk)
    target = max(0, min(len(siblings) - 1, index + offset))
    siblings.insert(target, siblings.pop(index))
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
            _save(sibling, actor=actor, fields=["position"])


# --- held certifications -------------------------------------------------------------------


@transaction.atomic
def held_certification_create(
    *,
    actor: User | None,
    hire: NewHire,
    certification: Certification,
    earned_on: datetime.date,
    expires_on: datetime.date | None = None,
    assignment: Assignment | None = None,
) -> HeldCertification:
    held = HeldCertification(
        hire=hire,
        certification=certification,
        earned_on=earned_on,
        expires_on=expires_on,
        assignment=assignment,
    )
    held.full_clean()
    held.save()
    return held


@transaction.atomic
def held_certification_update(
    *,
    actor: User | None,
    held: HeldCertification,
    expected_version: int | None = None,
    **changes: object,
) -> HeldCertification:
    """Apply `changes` unless someone saved the certification after `expected_version`."""
    _update(
        held,
        actor=actor,
        allowed=HELD_CERTIFICATION_FIELDS,
        changes=changes,
        expected_version=expected_version,
    )
    return held


@transaction.atomic
def held_certification_remove(
    *, actor: User | None, held: HeldCertification, expected_version: int | None = None
) -> None:
    lock_current(held, expected_version)
    held.delete()


# --- guidance ------------------------------------------------------------------------------


@transaction.atomic
def guidance_attach(*, plan: TrainingPlan, guidance: Guidance) -> PlanGuidance:
    """Attach guidance to a plan (once), keeping a snapshot of today's text."""
    attached, _ = PlanGuidance.objects.get_or_create(
        plan=plan, guidance=guidance, defaults={"body": guidance.body}
    )
    return attached


def plan_guidance_rules(*, plan: TrainingPlan) -> set[str]:
    """The guidance rules that hold for `plan` right now."""
    rules = {Guidance.Rule.ALWAYS}
    # One query for the three facts about the assignments (imports run this per hire).
    found = plan.assignments.aggregate(
        certification=Count("pk", filter=Q(course__certification__isnull=False)),
        framework=Count("pk", filter=Q(course__certification__framework_bound=True)),
        employer_paid=Count("pk", filter=Q(paid_by=Assignment.PaidBy.EMPLOYER, tuition_cost__gt=0)),
    )
    if found["certification"]:
        rules.add(Guidance.Rule.CERTIFICATION_COURSE)
    if found["framework"]:
        rules.add(Guidance.Rule.FRAMEWORK_CERTIFICATION)
    if plan.hire.new_to_product_management:
        rules.add(Guidance.Rule.NEW_TO_PM)
    if found["employer_paid"]:
        rules.add(Guidance.Rule.EMPLOYER_PAID)
    return rules


@transaction.atomic
def plan_guidance_sync(*, plan: TrainingPlan) -> list[PlanGuidance]:
    """Attach every active guidance whose rule now holds. Never detaches."""
    missing = (
        Guidance.objects.filter(active=True, rule__in=plan_guidance_rules(plan=plan))
        .exclude(attachments__plan=plan)
        .order_by("position")
    )
    return [guidance_attach(plan=plan, guidance=guidance) for guidance in missing]


@transaction.atomic
@transaction.atomic
def plan_guidance_update(
    *,
    actor: User | None,
    plan_guidance: PlanGuidance,
    manager_note: str | None = None,
    discussed: bool | None = None,
    expected_version: int | None = None,
) -> PlanGuidance:
    """Write the manager's note and/or mark the guidance discussed with the hire.

    With `expected_version`, refuses (StaleObjectError) when someone saved the
    guidance after that version: a note is free text that would be overwritten.
    """
    fields = []
    if manager_note is not None:
        plan_guidance.manager_note = manager_note.strip()
        fields.append("manager_note")
    if discussed is True and plan_guidance.acknowledged_at is None:
        plan_guidance.acknowledged_at = timezone.now()
        plan_guidance.acknowledged_by = actor
        fields += ["acknowledged_at", "acknowledged_by"]
    elif discussed is False and plan_guidance.acknowledged_at is not None:
        plan_guidance.acknowledged_at = None
        plan_guidance.acknowledged_by = None
        fields += ["acknowledged_at", "acknowledged_by"]
    # Checked after the changes are applied, so a refusal can name what differs.
    current = lock_current(plan_guidance, expected_version)
    plan_guidance.version = current.version
    if fields:
        _save(plan_guidance, actor=actor, fields=fields)
    return plan_guidance


# --- the catalog -----------------------------------------------------------------------------


@transaction.atomic
def catalog_entry_save(*, actor: User | None, entry: Model, expected_version: int | None) -> Model:
    """Save a catalog entry (course, certification, role profile, template, guidance, ...).

    The catalog's forms fill in `entry`; this is where their write happens, for the
    dashboard and the admin alike: an existing entry is locked and refused
    (StaleObjectError) if someone saved it after `expected_version`, and every save
    moves the version on. Related rows (template items, expected levels, course
    competencies) are saved by the caller inside the same transaction.
    """
    return _save_filled_in(entry, actor=actor, expected_version=expected_version)


@transaction.atomic
def user_account_save(*, actor: User | None, account: User, expected_version: int | None) -> User:
    """Save a user account the admin's user form filled in, refusing a stale version."""
    return _save_filled_in(account, actor=actor, expected_version=expected_version)


@transaction.atomic
def digest_preference_set(
    *, user: User, receives_digest: bool, expected_version: int | None = None
) -> User:
    """Turn a user's reminder email on or off (the profile page and the hire's own page).

    Only this field is written, so a change someone made to the account meanwhile
    (in the admin) stays; with `expected_version` a stale page is refused anyway.
    """
    user.receives_digest = receives_digest
    current = lock_current(user, expected_version)
    user.version = current.version + 1
    user.save(update_fields=["receives_digest", "version"])
    return user


def _save_filled_in(obj: Model, *, actor: User | None, expected_version: int | None) -> Model:
    """Save a row a whole ModelForm filled in (inside the caller's transaction)."""
    if obj.pk is not None and not obj._state.adding:
        current = lock_current(obj, expected_version)
        obj.version = current.version + 1
    obj._history_user = actor
    obj.save()
    return obj


# --- ramp check-ins --------------------------------------------------------------------------


@transaction.atomic
def check_in_record(
    *,
    actor: User | None,
    check_in: CheckIn,
    ratings: Mapping[int, tuple[int | None, str]],
    summary: str = "",
    complete: bool = False,
    completed_on: datetime.date | None = None,
    expected_version: int | None = None,
) -> CheckIn:
    """Save the manager's ratings of one check-in, and complete it if asked.

    `ratings` maps competency id -> (manager level 1-4 or None, note), for the
    competencies the check-in rates (selectors.check_in_competencies). Completing
    needs a level for every one of them and records who and when (now, or
    `completed_on` for a check-in recorded afterwards); a completed check-in can
    still be corrected, and keeps its completion.
    """
    lock_current(check_in, expected_version)
    rated = {competency.pk: competency for competency in check_in_competencies(check_in)}
    unknown = set(ratings) - set(rated)
    if unknown:
        raise ValidationError("This check-in does not rate some of the competencies given.")
    errors = {}
    for competency_id, (level, _note) in ratings.items():
        if level is not None and level not in LEVELS:
            errors[f"level_{competency_id}"] = "Choose a level from 1 to 4."
    if complete:
        missing = [rated[pk].name for pk in rated if ratings.get(pk, (None, ""))[0] is None]
        if missing:
            errors["__all__"] = (
                "Rate every competency before completing the check-in: " + ", ".join(missing) + "."
            )
    if errors:
        raise ValidationError(errors)

    existing = {r.competency_id: r for r in check_in.ratings.select_for_update()}
    for competency_id, (level, note) in ratings.items():
        note = note.strip()
        rating = existing.get(competency_id)
        if rating is None:
            if level is None and not note:
                continue
            rating = CompetencyRating(check_in=check_in, competency_id=competency_id)
        elif rating.manager_level == level and rating.note == note:
            continue
        rating.manager_level, rating.note = level, note
        rating._history_user = actor
        # Levels are checked above and the database's constraints hold the rest: a
        # full_clean() would ask the database about every constraint of every rating.
        rating.clean_fields(exclude=["check_in", "competency"])
        rating.save()

    fields = []
    if check_in.summary != summary.strip():
        check_in.summary = summary.strip()
        fields.append("summary")
    if complete and check_in.completed_at is None:
        if completed_on is not None and completed_on > timezone.localdate():
            raise ValidationError("A check-in cannot be completed in the future.")
        check_in.completed_at = (
            timezone.now()
            if completed_on is None
            else timezone.make_aware(datetime.datetime.combine(completed_on, datetime.time(12)))
        )
        check_in.completed_by = actor
        fields += ["completed_at", "completed_by"]
        newly_completed = True
    else:
        newly_completed = False
    _save(check_in, actor=actor, fields=fields)
    if newly_completed:
        webhook_events_record(
            event=WebhookEvent.CHECKIN_COMPLETED, payloads=[webhooks.check_in_payload(check_in)]
        )
    return check_in


# --- API tokens ------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *, actor: User | None, user: User, name: str, scope: str = ApiToken.Scope.READ
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it with its secret, which is never shown again."""
    if is_hire_account(user):
        raise ValidationError({"user": "A hire's own account cannot have API tokens."})
    if actor is not None and actor.pk != user.pk and not actor.is_superuser:
        raise ValidationError({"user": "Only the account's owner makes its tokens."})
    secret = ApiToken.MARK + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip(),
        scope=scope,
        prefix=ApiToken.prefix_of(secret),
        hash=ApiToken.hash_of(secret),
    )
    token.full_clean()
    token.save()
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    """Stop the token working at once; the row stays, so its use stays on record."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- the hire's own account: invitations -----------------------------------------------------


class InvitationError(Exception):
    """The link cannot be used; `state` says why (unknown, used, revoked, expired)."""

    def __init__(self, state: str):
        self.state = state
        super().__init__(f"This invitation link is {state}.")


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_send(
    *, actor: User | None, hire: NewHire, notify: bool = True, link_root: str | None = None
) -> tuple[HireInvitation, str]:
    """Invite a hire to their own plan: an account (made once), a one-time link by email.

    A new invitation revokes any open one. Returns the invitation and the token,
    which exists only in the email (the database keeps its hash). The email is
    sent once the transaction commits (not with `notify=False`: demo data). `link_root`
    is the site address for the link when the caller knows it (`links.site_root(request)`).
    """
    hire = NewHire.objects.select_for_update(of=("self",)).select_related("account").get(pk=hire.pk)
    if hire.is_archived:
        raise ValidationError("An archived hire cannot be invited: restore them first.")
    account = hire.account
    if account is None:
        email = hire.email.strip().lower()
        if User.objects.filter(username__iexact=email).exists():
            raise ValidationError(
                f"Another account already signs in as {email}: give the hire their own email."
            )
        first, _, last = hire.full_name.partition(" ")
        account = User(
            username=email,
            email=email,
            first_name=first[:150],
            last_name=last[:150],
            is_hire_account=True,
        )
        account.set_unusable_password()
        account.receives_digest = True
        account.save()
        hire.account = account
        hire._history_user = actor
        hire.save(update_fields=["account"])
    now = timezone.now()
    HireInvitation.objects.filter(hire=hire).pending(now).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = HireInvitation.objects.create(
        hire=hire,
        token_hash=invitation_token_hash(token),
        created_by=actor,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    if notify:
        # The token travels with the task (the database keeps only its hash); the
        # failure record leaves it out (tasks.send_invitation_email).
        tasks.enqueue_on_commit(
            tasks.send_invitation_email,
            invitation_id=invitation.pk,
            token=token,
            link_root=link_root,
        )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, actor: User | None, hire: NewHire) -> int:
    """Revoke the hire's open invitation(s); the link then shows that it was revoked."""
    return HireInvitation.objects.filter(hire=hire).pending().update(revoked_at=timezone.now())


def invitation_check(*, token: str) -> HireInvitation:
    """The pending invitation of this token, or InvitationError saying why not."""
    invitation = (
        HireInvitation.objects.select_related("hire__account")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationError("unknown")
    state = invitation.state()
    if state == "pending" and (invitation.hire.is_archived or invitation.hire.account is None):
        state = "revoked"
    if state != "pending":
        raise InvitationError(state)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Use the link once: set the hire's password (Django's validators) and activate them."""
    found = invitation_check(token=token)
    # Under the row lock: of two simultaneous uses of one link, the second finds it used.
    invitation = HireInvitation.objects.select_for_update().get(pk=found.pk)
    if invitation.state() != "pending":
        raise InvitationError(invitation.state())
    account = found.hire.account
    validate_password(password, account)
    account.set_password(password)
    account.is_active = True
    account.save(update_fields=["password", "is_active"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    return account


# --- the hire's own account: progress, evidence, feedback, self-ratings ----------------------

HIRE_REPORTABLE_STATUSES = (
    Assignment.Status.SCHEDULED,
    Assignment.Status.IN_PROGRESS,
    Assignment.Status.COMPLETED,
)


@transaction.atomic
def assignment_report_progress(
    *,
    actor: User,
    assignment: Assignment,
    status: str,
    on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Assignment:
    """What a hire says of their course: booked for a date, started, or completed on a date.

    Through the same services as the manager's changes, so the history records
    the hire as the one who changed it. A waived course is the manager's decision.
    """
    if status not in HIRE_REPORTABLE_STATUSES:
        raise ValidationError({"status": "Choose scheduled, in progress or completed."})
    if assignment.status == Assignment.Status.WAIVED:
        raise ValidationError("This course was waived; ask your manager if that should change.")
    if status == Assignment.Status.SCHEDULED:
        if on is None:
            raise ValidationError({"on": "Give the date of the session."})
        assignment_update(
            actor=actor, assignment=assignment, expected_version=expected_version, scheduled_for=on
        )
        expected_version = None  # checked and locked just now
    if status == Assignment.Status.COMPLETED and on is not None and on > timezone.localdate():
        raise ValidationError({"on": "The completion date cannot be in the future."})
    return assignment_set_status(
        actor=actor,
        assignment=assignment,
        status=status,
        completed_on=on if status == Assignment.Status.COMPLETED else None,
        expected_version=expected_version,
    )


@transaction.atomic
def evidence_add(
    *,
    actor: User,
    upload: UploadedFile,
    assignment: Assignment | None = None,
    held_certification: HeldCertification | None = None,
) -> Evidence:
    """Keep a certificate or proof of completion: PDF, PNG or JPEG, sniffed from its bytes."""
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        limit = settings.EVIDENCE_MAX_BYTES / 1024 / 1024
        raise ValidationError({"file": f"The file is larger than {limit:.0f} MB."})
    upload.seek(0)
    content_type = uploads.sniff(upload.read(uploads.HEAD_BYTES))
    upload.seek(0)
    if content_type is None:
        raise ValidationError(
            {
                "file": f"Only {uploads.ACCEPTED_LABEL} files are accepted, and this file is none "
                "of them (whatever its name says)."
            }
        )
    name = os.path.basename(upload.name or "evidence")[:255] or "evidence"
    evidence = Evidence(
        assignment=assignment,
        held_certification=held_certification,
        original_name=name,
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
    )
    # A name of our own: nothing the uploader chose ends up in a path.
    evidence.file.save(f"{uuid.uuid4().hex}{uploads.extension(content_type)}", upload, save=False)
    evidence.full_clean(exclude=["file"])
    evidence.save()
    return evidence


@transaction.atomic
def evidence_mark_reviewed(*, actor: User, evidence: Evidence) -> Evidence:
    if evidence.reviewed_at is None:
        evidence.reviewed_at = timezone.now()
        evidence.reviewed_by = actor
        evidence.save(update_fields=["reviewed_at", "reviewed_by"])
    return evidence


@transaction.atomic
def course_feedback_submit(
    *,
    actor: User,
    assignment: Assignment,
    usefulness: int,
    apply_here: str = "",
    does_not_fit: str = "",
) -> CourseFeedback:
    """The hire's word on a completed course; a second submission replaces the first."""
    if assignment.status != Assignment.Status.COMPLETED:
        raise ValidationError("Give feedback once the course is completed.")
    feedback = CourseFeedback.objects.filter(assignment=assignment).first() or CourseFeedback(
        assignment=assignment
    )
    feedback.usefulness = usefulness
    feedback.apply_here = apply_here.strip()
    feedback.does_not_fit = does_not_fit.strip()
    feedback.submitted_at = timezone.now()
    feedback._history_user = actor
    feedback.full_clean(validate_unique=False)
    feedback.save()
    return feedback


@transaction.atomic
def check_in_rate_self(
    *, actor: User, check_in: CheckIn, levels: Mapping[int, int | None]
) -> CheckIn:
    """The hire's own level per competency, before the manager completes the check-in."""
    check_in = CheckIn.objects.select_for_update().get(pk=check_in.pk)
    if check_in.completed_at is not None:
        raise ValidationError("This check-in is completed: your manager has closed it.")
    rated = {competency.pk for competency in check_in_competencies(check_in)}
    if set(levels) - rated:
        raise ValidationError("This check-in does not rate some of the competencies given.")
    existing = {r.competency_id: r for r in check_in.ratings.select_for_update()}
    for competency_id, level in levels.items():
        if level is not None and level not in LEVELS:
            raise ValidationError({f"level_{competency_id}": "Choose a level from 1 to 4."})
        rating = existing.get(competency_id)
        if rating is None:
            if level is None:
                continue
            rating = CompetencyRating(check_in=check_in, competency_id=competency_id)
        elif rating.self_level == level:
            continue
        rating.self_level = level
        rating._history_user = actor
        rating.save()
    return check_in


# --- webhooks and background tasks -------------------------------------------------------------


@transaction.atomic
def webhook_events_record(*, event: str, payloads: Sequence[dict]) -> list[WebhookDelivery]:
    """One delivery per payload and subscribed endpoint, written in the caller's transaction.

    Bulk writes (one INSERT for all of them) so that an import can emit thousands of
    events at once; each delivery's task is enqueued once the transaction commits, so
    nothing is sent for a write that rolled back. Without a subscribed endpoint this
    costs one query.
    """
    endpoints = webhooks.subscribed(WebhookEndpoint.objects.filter(active=True), event)
    if not endpoints or not payloads:
        return []
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                event=event,
                message_id=webhooks.message_id(),
                payload=webhooks.envelope(event, payload),
                next_attempt_at=timezone.now(),
            )
            for payload in payloads
            for endpoint in endpoints
        ]
    )
    ids = [delivery.pk for delivery in deliveries]
    if len(ids) <= tasks.FAN_OUT_ABOVE:
        transaction.on_commit(lambda: tasks.enqueue_webhook_deliveries(ids))
    else:
        # One task that enqueues the rest from the worker: 2,000 enqueues on commit
        # took 2.3 s (SQLite) to 5.4 s (PostgreSQL) of the request that made them.
        tasks.enqueue_on_commit(tasks.fan_out_webhook_deliveries, delivery_ids=ids)
    return deliveries


@transaction.atomic
def webhook_attempt_record(*, delivery_id: int, attempt: dict, give_up: bool = False) -> str:
    """Log one delivery attempt; settle the delivery or schedule its next attempt.

    Called by the deliver_webhook task after the request (not holding a lock while
    waiting for a slow receiver). Returns the delivery's status.
    """
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint was deleted meanwhile
        return "gone"
    if delivery.status != WebhookDelivery.Status.PENDING:
        return delivery.status
    delivery.attempts = [*delivery.attempts, attempt]
    number = attempt["attempt"]
    # The immediate backend cannot run a task later: no retry there, so say "failed"
    # rather than leave the delivery pending for an attempt that never comes.
    can_retry = not give_up and tasks.deliver_webhook.get_backend().supports_defer
    delay = webhooks.attempt_delay(number) if can_retry else None
    if not attempt["error"]:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.next_attempt_at = None
    elif delay is None:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = timezone.now() + delay
    delivery.save(update_fields=["attempts", "status", "next_attempt_at"])
    if delivery.status == WebhookDelivery.Status.PENDING:
        transaction.on_commit(
            lambda: tasks.enqueue_later(
                tasks.deliver_webhook, delay, delivery_id=delivery_id, attempt=number + 1
            )
        )
    return delivery.status


@transaction.atomic
def webhook_delivery_retry(*, actor: User | None, delivery: WebhookDelivery) -> WebhookDelivery:
    """Try a delivery again now (people-ops' "retry now"): one more attempt, then the schedule."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    attempt = len(delivery.attempts) + 1
    tasks.enqueue_on_commit(tasks.deliver_webhook, delivery_id=delivery.pk, attempt=attempt)
    return delivery


@transaction.atomic
def webhook_endpoint_test(*, actor: User | None, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send one "webhook.test" event to `endpoint`, whatever it subscribes to."""
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=WEBHOOK_TEST_EVENT,
        message_id=webhooks.message_id(),
        payload=webhooks.envelope(
            WEBHOOK_TEST_EVENT, {"endpoint": endpoint.name, "sent_by": str(actor or "")}
        ),
        next_attempt_at=timezone.now(),
    )
    tasks.enqueue_on_commit(tasks.deliver_webhook, delivery_id=delivery.pk)
    return delivery


@transaction.atomic
def webhook_endpoint_save(
    *, actor: User | None, endpoint: WebhookEndpoint, expected_version: int | None
) -> WebhookEndpoint:
    """Save an endpoint the admin's form filled in, refusing a URL we may not send to."""
    webhooks.check_url(endpoint.url)
    endpoint.full_clean()
    if endpoint.pk is None:
        endpoint.created_by = actor
    return _save_filled_in(endpoint, actor=actor, expected_version=expected_version)


def task_failure_record(
    *, task_name: str, arguments: Mapping[str, object], attempts: int, error: str
) -> TaskFailure:
    """Record a background task's final failure, for people-ops to see in the admin."""
    return TaskFailure.objects.create(
        task_name=task_name[:200], arguments=dict(arguments), attempts=attempts, error=error
    )
