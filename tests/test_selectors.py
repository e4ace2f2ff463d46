"""Read queries as functions of a user and filter values: no request, same scoping everywhere."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from onboarding import selectors
from onboarding.models import NewHire

from .factories import AssignmentFactory, NewHireFactory, TrainingPlanFactory

TODAY = timezone.localdate()


@pytest.fixture
def two_teams(owner, outsider):
    mine = NewHireFactory(hiring_manager=owner, full_name="Mina Mine", email="mina@example.com")
    theirs = NewHireFactory(
        hiring_manager=outsider, full_name="Theo Theirs", email="theo@example.com"
    )
    for hire in (mine, theirs):
        AssignmentFactory(plan=TrainingPlanFactory(hire=hire), due_date=TODAY)
    return mine, theirs


def test_it_reads_the_hires_table_for_a_user(owner, two_teams):
    mine, _ = two_teams
    table = selectors.hire_table(user=owner, data={})
    assert [hire.pk for hire in table["hires"]] == [mine.pk]
    assert table["hires"][0].health in {"overdue", "at_risk", "on_track", "complete"}
    assert not table["show_manager"]


def test_it_lets_the_system_see_every_hire_and_filter_by_manager(outsider, two_teams):
    names = {row[0] for row in selectors.export_rows("hires", {}, user=None)}
    assert names == {"Mina Mine", "Theo Theirs"}
    only_theirs = selectors.export_rows("hires", {"hiring_manager": str(outsider.pk)}, user=None)
    assert [row[0] for row in only_theirs] == ["Theo Theirs"]


def test_it_never_offers_a_manager_another_managers_filter(owner, outsider, two_teams):
    # The manager filter is not there for a manager, so the value changes nothing.
    rows = selectors.export_rows("hires", {"hiring_manager": str(outsider.pk)}, user=owner)
    assert [row[0] for row in rows] == ["Mina Mine"]


def test_it_names_the_field_of_a_bad_filter(owner):
    with pytest.raises(selectors.FilterError, match="due_after"):
        selectors.export_rows("assignments", {"due_after": "soon"}, user=owner)
    with pytest.raises(selectors.FilterError, match="sort"):
        selectors.export_rows("tuition", {"sort": "nonsense"}, user=owner)


def test_it_picks_the_page_then_loads_only_its_rows(owner):
    for n in range(7):
        NewHireFactory(hiring_manager=owner, start_date=TODAY - datetime.timedelta(days=n))
    ids = NewHire.objects.order_by("-start_date", "pk").values_list("pk", flat=True)
    loaded: list[list[int]] = []

    def load(page_ids):
        loaded.append(page_ids)
        return NewHire.objects.filter(pk__in=page_ids).order_by("?")

    page = selectors.page_then_rows(ids, 2, load, per_page=3)
    assert loaded == [list(ids[3:6])]
    assert [hire.pk for hire in page.object_list] == list(ids[3:6])
    assert page.paginator.count == 7


def test_it_refuses_rows_of_the_wrong_model_for_an_export(owner, two_teams):
    with pytest.raises(TypeError):
        selectors.selected_rows("hires", TrainingPlanFactory._meta.model.objects.all())
