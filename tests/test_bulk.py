"""Bulk actions on the hires list: the one-at-a-time services, all or nothing."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from onboarding.models import NewHire, TrainingPlan

from .factories import (
    ManagerFactory,
    NewHireFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
)

URL = reverse("onboarding:hire_bulk")
LIST = reverse("onboarding:hire_list")


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def template(db):
    template = PlanTemplateFactory(name="Bulk start")
    PlanTemplateItemFactory(template=template, due_offset_days=45)
    return template


@pytest.fixture
def pair(owner):
    return [
        NewHireFactory(hiring_manager=owner, full_name="Ann Able"),
        NewHireFactory(hiring_manager=owner, full_name="Bo Baker"),
    ]


def post(client, hires, **data):
    return client.post(URL, {"hires": [h.pk for h in hires], "next": LIST + "?q=a", **data})


def test_it_gives_each_selected_hire_a_plan_from_a_template(owner_client, owner, pair, template):
    response = post(owner_client, pair, action="plan", template=template.pk)
    assert response.status_code == 302 and response["Location"] == LIST + "?q=a"
    for hire in pair:
        plan = TrainingPlan.objects.get(hire=hire)
        assert plan.template == template and plan.assignments.count() == 1
        # The same guidance and history as one plan at a time.
        assert plan.guidance.filter(guidance__slug="mileage-may-vary").exists()
        assert plan.history.first().history_user == owner
    assert texts(response) == ["Gave 2 hires a plan from “Bulk start”: Ann Able, Bo Baker."]


def test_it_archives_the_selected_hires(owner_client, pair):
    response = post(owner_client, pair, action="archive")
    assert all(NewHire.objects.get(pk=h.pk).archived_at for h in pair)
    assert texts(response) == ["Archived 2 hires: Ann Able, Bo Baker."]


def test_it_changes_nothing_when_one_hire_cannot_be_changed(owner_client, owner, pair, template):
    late = NewHireFactory(
        hiring_manager=owner, full_name="Zoe Late", start_date=datetime.date(2100, 12, 1)
    )
    response = post(owner_client, [*pair, late], action="plan", template=template.pk)
    assert not TrainingPlan.objects.exists()
    [message] = texts(response)
    assert message.startswith("Nothing changed: Zoe Late: ")


def test_it_lets_people_ops_move_hires_to_another_manager(
    people_ops_client, people_ops, owner, pair
):
    other = ManagerFactory(first_name="Mo", last_name="Manager")
    response = post(people_ops_client, pair, action="manager", hiring_manager=other.pk)
    assert {NewHire.objects.get(pk=h.pk).hiring_manager for h in pair} == {other}
    assert texts(response) == ["Moved 2 hires to Mo Manager: Ann Able, Bo Baker."]
    assert NewHire.objects.get(pk=pair[0].pk).history.first().history_user == people_ops


def test_it_does_not_let_a_manager_hand_hires_to_someone_else(owner_client, owner, pair):
    other = ManagerFactory()
    response = post(owner_client, pair, action="manager", hiring_manager=other.pk)
    assert {NewHire.objects.get(pk=h.pk).hiring_manager for h in pair} == {owner}
    assert texts(response)[0].startswith("Nothing changed: ")
    page = owner_client.get(LIST).content.decode()
    assert 'value="manager"' not in page and 'name="hiring_manager"' not in page


def test_it_answers_404_for_someone_elses_hire_and_changes_nothing(owner_client, outsider, pair):
    foreign = NewHireFactory(hiring_manager=outsider)
    response = post(owner_client, [*pair, foreign], action="archive")
    assert response.status_code == 404
    assert not NewHire.objects.filter(archived_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"action": "plan"}, "Choose the template"),
        ({"action": "explode"}, "Select a valid choice"),
        ({}, "This field is required"),
    ],
)
def test_it_explains_an_incomplete_request(owner_client, pair, data, expected):
    response = post(owner_client, pair, **data)
    [message] = texts(response)
    assert message.startswith("Nothing changed:") and expected in message


def test_it_asks_for_hires_first(owner_client):
    response = owner_client.post(URL, {"action": "archive"})
    assert texts(response) == ["Nothing changed: tick the hires first."]


def test_it_keeps_the_redirect_on_this_site(owner_client, pair):
    response = owner_client.post(
        URL, {"hires": [pair[0].pk], "action": "archive", "next": "https://evil.example/"}
    )
    assert response["Location"] == LIST


def test_it_offers_a_checkbox_per_hire_on_the_list(owner_client, pair):
    body = owner_client.get(LIST).content.decode()
    for hire in pair:
        assert (
            f'name="hires" value="{hire.pk}" form="hire-bulk" aria-label="Select {hire.full_name}"'
        ) in body
    assert f'action="{URL}"' in body
