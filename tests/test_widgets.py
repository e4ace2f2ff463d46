"""Widgets rendered in Python write exactly what Django's widget templates write."""

import pytest
from django import forms

from onboarding import selectors
from onboarding.forms.widgets import PythonSelect
from tests.factories import RoleProfileFactory

CHOICES = [
    ("", "Any"),
    ("a&b", 'Tom & "Jerry" <script>'),
    ("Group <1>", [(1, "One"), (2, "Two's")]),
    (3, "Three"),
]


def django_render(widget: forms.Select, name: str, value, attrs=None) -> str:
    return forms.Select.render(widget, name, value, attrs)


@pytest.mark.parametrize("value", [None, "", "a&b", 2, "3", "missing"])
def test_it_renders_a_select_as_django_does(value):
    widget = PythonSelect(
        attrs={"class": "form-select", "required": True, "disabled": False, "data-x": 'q"<'},
        choices=CHOICES,
    )
    attrs = {"id": "id_pick", "aria-describedby": "id_pick_error"}
    assert widget.render("pick", value, attrs) == django_render(widget, "pick", value, attrs)


@pytest.mark.parametrize(
    "data", [{}, {"health": "at_risk", "has_overdue": "true", "archived": "all"}, {"health": "x"}]
)
def test_it_renders_the_hires_filter_form_as_django_does(people_ops, data):
    RoleProfileFactory(name="Technical <PM> & co")
    form = selectors.hire_table(user=people_ops, data=data)["filter"].form
    selects = [field for field in form if isinstance(field.field.widget, PythonSelect)]
    assert {field.name for field in selects} >= {
        "role_profile",
        "health",
        "has_overdue",
        "archived",
        "hiring_manager",
    }
    for field in selects:
        widget = field.field.widget
        value = field.value()
        attrs = field.build_widget_attrs({"id": field.auto_id})
        assert widget.render(field.html_name, value, attrs) == django_render(
            widget, field.html_name, value, attrs
        )
