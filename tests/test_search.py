"""Search from the navigation bar: hires, plans and courses the user may see."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onboarding import selectors

from .factories import CourseFactory, NewHireFactory, TrainingPlanFactory

URL = reverse("onboarding:search")


def found(response) -> dict[str, list[str]]:
    results = response.context["results"]
    return {
        "hires": [h.full_name for h in results.hires],
        "plans": [p.title for p in results.plans],
        "courses": [c.title for c in results.courses],
    }


def test_it_finds_hires_plans_and_courses(owner_client, owner):
    quinn = NewHireFactory(hiring_manager=owner, full_name="Quinn Quartz")
    TrainingPlanFactory(hire=quinn, title="Quartz onboarding")
    NewHireFactory(hiring_manager=owner, full_name="Quentin Quartzite")
    CourseFactory(title="Quartz pricing", provider="Quartz Academy")
    response = owner_client.get(URL, {"q": "quartz"})
    assert response.status_code == 200
    assert found(response) == {
        "hires": ["Quentin Quartzite", "Quinn Quartz"],
        "plans": ["Quartz onboarding"],
        "courses": ["Quartz pricing"],
    }


def test_it_never_finds_another_managers_hires_or_plans(owner_client, outsider, people_ops, client):
    other = NewHireFactory(hiring_manager=outsider, full_name="Zed Zebra")
    TrainingPlanFactory(hire=other, title="Zebra plan")
    response = owner_client.get(URL, {"q": "zebra"})
    assert found(response) == {"hires": [], "plans": [], "courses": []}
    assert "Nothing matches" in response.content.decode()
    client.force_login(people_ops)
    assert found(client.get(URL, {"q": "zebra plan"}))["plans"] == ["Zebra plan"]


def test_it_goes_straight_to_the_only_hire_found(owner_client, owner):
    hire = NewHireFactory(hiring_manager=owner, full_name="Solo Sparrow", email="solo@x.example")
    response = owner_client.get(URL, {"q": "sparrow"})
    assert response.status_code == 302
    assert response["Location"] == hire.get_absolute_url()


def test_it_links_to_every_match_beyond_the_first_ten(owner_client, owner):
    for index in range(selectors.SEARCH_LIMIT + 2):
        NewHireFactory(hiring_manager=owner, full_name=f"Many Match {index:02}")
    response = owner_client.get(URL, {"q": "many match"})
    assert len(response.context["results"].hires) == selectors.SEARCH_LIMIT
    link = f"{reverse('onboarding:hire_list')}?q=many%20match&amp;archived=all"
    assert link in response.content.decode()
    listed = owner_client.get(reverse("onboarding:hire_list"), {"q": "many match"})
    assert listed.context["page_obj"].paginator.count == selectors.SEARCH_LIMIT + 2


@pytest.mark.parametrize("text", ["", "   ", "x" * 500, "%_'\"<b>"])
def test_it_answers_any_query_without_an_error(owner_client, text):
    response = owner_client.get(URL, {"q": text})
    assert response.status_code == 200
    assert "<b>" not in response.content.decode()


@pytest.mark.parametrize("text", ["\x00", "a\x00b"])
def test_it_answers_400_to_a_nul_byte_in_a_search(owner_client, text):
    # UnreadableInputMiddleware, before the view: PostgreSQL cannot take one in a query.
    assert owner_client.get(URL, {"q": text}).status_code == 400


def test_it_searches_in_a_fixed_number_of_queries(owner, owner_client):
    for index in range(3):
        TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner, full_name=f"Fixed {index}"))
    owner_client.get(URL, {"q": "fixed"})
    with CaptureQueriesContext(connection) as few:
        owner_client.get(URL, {"q": "fixed"})
    for index in range(8):
        TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner, full_name=f"Fixed x{index}"))
    with CaptureQueriesContext(connection) as more:
        owner_client.get(URL, {"q": "fixed"})
    assert len(more.captured_queries) == len(few.captured_queries)


def test_it_offers_search_in_the_navigation_bar(owner_client):
    body = owner_client.get(reverse("onboarding:home")).content.decode()
    assert f'role="search" method="get" action="{URL}"' in body
    assert 'for="nav-search-q">Search hires, plans and courses</label>' in body


def test_it_goes_to_the_only_hire_found_even_when_their_plans_match_too(owner_client, owner):
    hire = NewHireFactory(hiring_manager=owner, full_name="Pia Plover")
    TrainingPlanFactory(hire=hire, title="Starter")
    response = owner_client.get(URL, {"q": "plover"})
    assert response.status_code == 302 and response["Location"] == hire.get_absolute_url()
