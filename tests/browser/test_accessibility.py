"""axe-core scan of every dashboard page: zero WCAG 2.0/2.1 A and AA violations.

To cover another page, append a PageCase to PAGES: its path is built from the
`world` fixture, `user` names the World attribute to sign in as (None: signed out),
and `action` may drive the page first (e.g. submit a form to show its errors).
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from onboarding.models import (
    Certification,
    Competency,
    Course,
    Guidance,
    HireImport,
    PlanTemplate,
    RoleProfile,
)

from .conftest import AXE_SCRIPT, IN_CI, PHONE, PageCase, World, screenshot, sign_in

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def first(model):
    return model.objects.order_by("pk").first()


def submit_empty_hire_form(page) -> None:
    page.get_by_label("Full name").fill("")
    page.get_by_role("button", name="Add hire").click()
    page.wait_for_selector(".invalid-feedback")


def open_account_menu(page) -> None:
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.wait_for_selector("#main-nav.show")
    page.locator(".navbar .dropdown-toggle").click()
    page.wait_for_selector(".dropdown-menu.show")


def failed_import_url(w: World) -> str:
    """A finished import that names the row and column at fault (made for the scan)."""
    from onboarding import services

    run = services.hire_import_start(
        actor=w.owner, content=b"", file_name="cohort.csv", template=None, rows_total=2
    )
    services.hire_import_update(
        run=run,
        status=HireImport.Status.FAILED,
        error_row=3,
        error_field="email",
        error_message="Row 3, column email: Enter a valid email address.",
    )
    return run.get_absolute_url()


PAGES: list[PageCase] = [
    PageCase("login", None, lambda w: reverse("login")),
    PageCase("home", "owner", lambda w: reverse("onboarding:home")),
    PageCase("home-account-menu", "owner", lambda w: reverse("onboarding:home"), open_account_menu),
    PageCase("home-empty", "empty_manager", lambda w: reverse("onboarding:home")),
    PageCase("home-people-ops", "people_ops", lambda w: reverse("onboarding:home")),
    PageCase("hire-list", "owner", lambda w: reverse("onboarding:hire_list") + "?sort=name"),
    PageCase("hire-list-no-match", "owner", lambda w: reverse("onboarding:hire_list") + "?q=zzz"),
    PageCase(
        "hire-list-filter-error",
        "owner",
        lambda w: reverse("onboarding:hire_list") + "?start_after=2020-13-01&health=nope",
    ),
    PageCase("hire-detail", "owner", lambda w: reverse("onboarding:hire_detail", args=[w.hire.pk])),
    PageCase("hire-create", "owner", lambda w: reverse("onboarding:hire_create")),
    PageCase(
        "hire-create-errors",
        "owner",
        lambda w: reverse("onboarding:hire_create"),
        submit_empty_hire_form,
    ),
    PageCase("hire-create-people-ops", "people_ops", lambda w: reverse("onboarding:hire_create")),
    PageCase("hire-edit", "owner", lambda w: reverse("onboarding:hire_edit", args=[w.hire.pk])),
    PageCase("password-change", "owner", lambda w: reverse("password_change")),
    PageCase("password-change-done", "owner", lambda w: reverse("password_change_done")),
    PageCase("plan-detail", "owner", lambda w: reverse("onboarding:plan_detail", args=[w.plan.pk])),
    PageCase("plan-edit", "owner", lambda w: reverse("onboarding:plan_edit", args=[w.plan.pk])),
    PageCase(
        "plan-create-from-template",
        "owner",
        lambda w: (
            reverse("onboarding:plan_create", args=[w.hire.pk])
            + f"?template={first(PlanTemplate).pk}"
        ),
    ),
    # No template asked for: the one that suits the hire's role profile is pre-selected.
    PageCase(
        "plan-create-suggested",
        "owner",
        lambda w: reverse("onboarding:plan_create", args=[w.hire.pk]),
    ),
    PageCase(
        "assignment-edit",
        "owner",
        lambda w: reverse("onboarding:assignment_edit", args=[w.plan.assignments.first().pk]),
    ),
    PageCase(
        "assignment-remove",
        "owner",
        lambda w: reverse("onboarding:assignment_remove", args=[w.plan.assignments.first().pk]),
    ),
    PageCase("assignment-list", "owner", lambda w: reverse("onboarding:assignment_list")),
    PageCase("tuition", "people_ops", lambda w: reverse("onboarding:tuition")),
    PageCase("hire-import", "owner", lambda w: reverse("onboarding:hire_import")),
    PageCase("hire-import-failed", "owner", failed_import_url),
    PageCase("profile", "owner", lambda w: reverse("onboarding:profile")),
    PageCase("search", "owner", lambda w: reverse("onboarding:search") + "?q=e"),
    PageCase(
        "check-in",
        "owner",
        lambda w: reverse("onboarding:check_in", args=[w.hire.check_ins.first().pk]),
    ),
    PageCase("outcomes", "owner", lambda w: reverse("onboarding:outcomes")),
    PageCase("outcomes-people-ops", "people_ops", lambda w: reverse("onboarding:outcomes")),
    *[
        PageCase(f"{kind}-list", "owner", lambda w, k=kind: reverse(f"onboarding:{k}_list"))
        for kind in (
            "course",
            "certification",
            "roleprofile",
            "competency",
            "plantemplate",
            "guidance",
        )
    ],
    *[
        PageCase(
            f"{model.__name__.lower()}-detail",
            "owner",
            lambda w, m=model: reverse(
                f"onboarding:{m.__name__.lower()}_detail", args=[first(m).pk]
            ),
        )
        for model in (Course, Certification, RoleProfile, Competency, PlanTemplate, Guidance)
    ],
]


def axe_violations(page) -> list[dict]:
    if not AXE_SCRIPT.is_file():
        message = f"axe-core is missing at {AXE_SCRIPT}: run `npm install` in the project."
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return result["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {json.dumps(node['target'])}: {node['failureSummary']}")
    return "\n".join(lines)


@pytest.mark.parametrize("case", PAGES, ids=[case.name for case in PAGES])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_it_has_no_wcag_violations(live_server, world: World, axe_context, case, viewport):
    page = axe_context.new_page()
    if viewport == "phone":
        page.set_viewport_size(PHONE)
    if case.user:
        sign_in(page, live_server.url, getattr(world, case.user).username)
    page.goto(live_server.url + case.path(world))
    page.wait_for_load_state("load")
    if case.action:
        case.action(page)
    violations = axe_violations(page)
    screenshot(page, f"axe-{case.name}-{viewport}")
    assert not violations, f"{case.name} ({viewport}):\n{describe(violations)}"
