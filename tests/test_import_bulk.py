"""The import's bulk write gives the rows the one-at-a-time services give.

services.hire_bulk_import replaces hire_create + plan_create(template=...) per row
for imports; the same input through both paths must leave the same hires, plans,
assignments, guidance (the trigger's "mileage may vary" included), check-ins and
rollups (PlanProgress, DailyTotals), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from onboarding import catalog, rollups, services
from onboarding.models import (
    Assignment,
    CheckIn,
    DailyTotals,
    Guidance,
    NewHire,
    PlanGuidance,
    PlanProgress,
    TrainingPlan,
)

from .factories import (
    CertificationFactory,
    CourseFactory,
    GuidanceFactory,
    ManagerFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
    RoleProfileFactory,
)


@pytest.fixture
def template(db):
    """Courses that set off every guidance rule, in two currencies, due before and
    after today for some hires."""
    template = PlanTemplateFactory(name="Cohort start")
    safe = CertificationFactory(name="SAFe POPM", framework_bound=True)
    plain = CertificationFactory(name="Plain cert")
    courses = [
        (CourseFactory(title="Framework", certification=safe, tuition=Decimal("1200")), 60),
        (CourseFactory(title="Free", tuition=Decimal("0")), 0),
        (CourseFactory(title="No price"), 14),
        (
            CourseFactory(
                title="Euro cert", certification=plain, tuition=Decimal("300"), currency="EUR"
            ),
            90,
        ),
    ]
    for position, (course, offset) in enumerate(courses):
        PlanTemplateItemFactory(
            template=template, course=course, due_offset_days=offset, position=position
        )
    # One active guidance per rule (the catalog's may be absent or inactive), and an
    # inactive one that must not be attached.
    for rule in Guidance.Rule.values:
        if rule not in (Guidance.Rule.ALWAYS, Guidance.Rule.MANUAL):
            GuidanceFactory(rule=rule, position=5)
    GuidanceFactory(rule=Guidance.Rule.NEW_TO_PM, active=False)
    assert Guidance.objects.filter(slug=catalog.MILEAGE_SLUG, active=True).exists()
    return template


def cohort(prefix: str, managers) -> list[dict]:
    today = timezone.localdate()
    profile = RoleProfileFactory(name="Technical PM")
    return [
        {
            "full_name": f"Hire {i}",
            "email": f"{prefix}{i}@Example.com",
            "title": "Senior PM" if i % 3 else "Product Manager",
            "role_profile": profile if i % 2 else None,
            "start_date": today + datetime.timedelta(days=(i * 37) % 200 - 120),
            "new_to_product_management": i % 2 == 0,
            "previous_role": " Engineer " if i % 4 == 0 else "",
            "notes": f"note {i}",
            "hiring_manager": managers[i % len(managers)],
        }
        for i in range(7)
    ]


def snapshot(hires: list[NewHire], managers) -> dict:
    """Everything the import wrote for `hires`, with ids and clocks left out and each
    manager named by its place in `managers`."""
    slot = {m.pk: index for index, m in enumerate(managers)}
    result: dict = {"hires": []}
    for hire in hires:
        hire = NewHire.objects.get(pk=hire.pk)
        plan = TrainingPlan.objects.get(hire=hire)
        progress = PlanProgress.objects.values(*rollups.PROGRESS_FIELDS).get(plan=plan)
        result["hires"].append(
            {
                "hire": (
                    hire.full_name,
                    hire.email.split("@")[1],
                    hire.title,
                    hire.role_profile_id,
                    slot[hire.hiring_manager_id],
                    hire.start_date,
                    hire.new_to_product_management,
                    hire.previous_role,
                    hire.notes,
                    hire.version,
                ),
                "hire history": [
                    (
                        h.history_type,
                        h.history_user_id,
                        h.history_change_reason.split()[0],
                        h.full_name,
                        h.start_date,
                        h.version,
                        abs(h.history_date - timezone.now()) < datetime.timedelta(minutes=5),
                    )
                    for h in hire.history.all()
                ],
                "plan": (
                    plan.title,
                    slot[plan.owner_id],
                    plan.template_id,
                    plan.target_date,
                    plan.version,
                ),
                "plan created by": plan.history.earliest("history_date").history_user_id,
                "assignments": list(
                    Assignment.objects.filter(plan=plan)
                    .order_by("position")
                    .values_list(
                        "course_id",
                        "due_date",
                        "scheduled_for",
                        "status",
                        "tuition_cost",
                        "paid_by",
                        "position",
                        "notes",
                        "version",
                    )
                ),
                "assignment history": sorted(
                    Assignment.history.filter(plan=plan).values_list(
                        "course_id", "due_date", "tuition_cost", "history_type", "history_user_id"
                    )
                ),
                "guidance": sorted(
                    PlanGuidance.objects.filter(plan=plan).values_list(
                        "guidance_id", "body", "manager_note", "acknowledged_at", "version"
                    )
                ),
                "check-ins": sorted(
                    CheckIn.objects.filter(hire=hire).values_list(
                        "kind", "due_date", "completed_at", "version"
                    )
                ),
                "progress": {
                    key: slot.get(value) if key == "hiring_manager_id" else value
                    for key, value in progress.items()
                    if key != "hire_id"
                },
            }
        )
    result["daily totals"] = sorted(
        (slot[row.pop("hiring_manager_id")], *row.values())
        for row in DailyTotals.objects.filter(hiring_manager__in=managers)
        .exclude(**dict.fromkeys(rollups.TOTALS_FIELDS, 0))
        .values("hiring_manager_id", "hire_archived", "day", "currency", *rollups.TOTALS_FIELDS)
    )
    return result


def test_it_writes_in_bulk_the_rows_the_one_at_a_time_services_write(people_ops, template):
    one_by_one_managers = [ManagerFactory(), ManagerFactory()]
    bulk_managers = [ManagerFactory(), ManagerFactory()]

    one_by_one = []
    for row in cohort("one", one_by_one_managers):
        hire = services.hire_create(actor=people_ops, change_reason="Import one", **row)
        services.plan_create(actor=people_ops, hire=hire, template=template)
        one_by_one.append(hire)
    # A chunk smaller than the cohort, so that several chunks' rows are compared.
    bulk = services.hire_bulk_import(
        actor=people_ops,
        rows=cohort("bulk", bulk_managers),
        template=template,
        change_reason="Import bulk",
        chunk_size=3,
    )

    expected = snapshot(one_by_one, one_by_one_managers)
    found = snapshot(bulk, bulk_managers)
    assert found["hires"] == expected["hires"]
    assert found["daily totals"] == expected["daily totals"]
    assert found["daily totals"]  # the comparison compared something
    # Every rule fired for some hire, and the trigger's guidance is there.
    attached = {g for hire in found["hires"] for g, *_ in hire["guidance"]}
    rules = set(Guidance.objects.filter(pk__in=attached).values_list("rule", flat=True))
    assert rules == set(Guidance.Rule.values) - {Guidance.Rule.MANUAL}
    assert rollups.differences() == []
    assert [h.email for h in bulk] == [f"bulk{i}@example.com" for i in range(7)]


def test_it_writes_hires_without_plans_when_there_is_no_template(owner):
    hires = services.hire_bulk_import(actor=owner, rows=cohort("x", [owner]))
    assert NewHire.objects.count() == 7 and not TrainingPlan.objects.exists()
    assert hires[0].history.get().history_user == owner


@pytest.mark.parametrize(
    ("change", "index", "field"),
    [
        ({"email": "taken@example.com"}, 4, "email"),
        ({"full_name": "x" * 201}, 4, "full_name"),
        ({"start_date": datetime.date(2100, 12, 1)}, 4, "template"),
    ],
)
def test_it_writes_nothing_and_names_the_row_a_rule_refuses(owner, template, change, index, field):
    services.hire_create(
        actor=owner,
        full_name="Earlier",
        email="TAKEN@example.com",
        hiring_manager=owner,
        start_date=datetime.date(2025, 1, 1),
    )
    rows = cohort("y", [owner])
    rows[index].update(change)
    with pytest.raises(services.BulkRowError) as refused:
        services.hire_bulk_import(actor=owner, rows=rows, template=template, chunk_size=2)
    assert refused.value.index == index
    assert field in refused.value.message_dict
    assert NewHire.objects.count() == 1 and not TrainingPlan.objects.exists()


def test_it_refuses_a_manager_the_actor_may_not_choose(owner, outsider):
    rows = cohort("z", [owner])
    rows[2]["hiring_manager"] = outsider
    with pytest.raises(ValidationError) as refused:
        services.hire_bulk_import(actor=owner, rows=rows)
    assert refused.value.index == 2 and "hiring_manager" in refused.value.message_dict
    assert not NewHire.objects.exists()


def test_it_sends_the_events_the_one_at_a_time_services_send(people_ops, template, settings):
    from onboarding.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    endpoint = services.webhook_endpoint_save(
        actor=people_ops,
        endpoint=WebhookEndpoint(
            name="HRIS",
            url="http://127.0.0.1:9/hooks",
            events=[WebhookEvent.HIRE_CREATED, WebhookEvent.PLAN_CREATED],
        ),
        expected_version=None,
    )
    hires = services.hire_bulk_import(
        actor=people_ops, rows=cohort("ev", [people_ops]), template=template, chunk_size=3
    )
    sent = WebhookDelivery.objects.filter(endpoint=endpoint)
    created = sorted(d.payload["data"]["id"] for d in sent.filter(event="hire.created"))
    assert created == sorted(hire.pk for hire in hires)
    plans = sorted(d.payload["data"]["hire_id"] for d in sent.filter(event="plan.created"))
    assert plans == sorted(hire.pk for hire in hires)
