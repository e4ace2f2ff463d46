"""Every URL pattern of the project, against every persona.

The patterns come from the URL resolver, so a new URL cannot escape this test: a
pattern without an entry in ROUTES (or ADMIN handling) fails until someone
teaches the test how to exercise it.

Personas: anonymous, the owner of the object (a hiring manager), an outsider (a
hiring manager who does not own it), people-ops, and a signed-in user without
change permissions (for catalog writes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from onboarding import catalog, services
from onboarding.middleware import HIRE_URL_NAMES
from onboarding.models import Competency, PlanGuidance

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    GuidanceFactory,
    NewHireFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
    RoleProfileFactory,
    TrainingPlanFactory,
    UserFactory,
)

# How each kind of route answers each persona.
PUBLIC = "public"  # anyone: 200
SIGNED_IN = "signed_in"  # anonymous -> sign in; any signed-in user -> 200
SIGNED_IN_POST = "signed_in_post"  # as SIGNED_IN, POST only (GET -> 405)
NEEDS_ADD_HIRE = "needs_add_hire"  # anonymous -> sign in; no permission -> 403; managers -> 200
OWNED = "owned"  # anonymous -> sign in; outsider -> 404; owner, people-ops -> 200
OWNED_POST = "owned_post"  # as OWNED, but the route only takes POST (GET -> 405)
CATALOG_WRITE = "catalog_write"  # anonymous -> sign in; no permission -> 403; editor -> 200
TOKEN = "token"  # no login; wrong token -> 404; the owner's token -> 200
ME = "me"  # the hire's own area: anonymous -> sign in; the hire -> 200; managers -> 404
ME_POST = "me_post"  # as ME, POST only
INVITATION = "invitation"  # no login; a pending invitation's token -> 200; unknown -> 404
PERSONAL_POST = "personal_post"  # the owner's own thing (an API token), POST: anyone else 404


@dataclass
class Route:
    kind: str
    # Builds the URL kwargs from the world of objects (see the `world` fixture).
    kwargs: Callable[[dict], dict] = field(default=lambda w: {})


def hire(w):
    return {"pk": w["hire"].pk}


def plan(w):
    return {"pk": w["plan"].pk}


def assignment(w):
    return {"pk": w["assignment"].pk}


CATALOG = ("course", "certification", "roleprofile", "competency", "plantemplate", "guidance")

ROUTES: dict[str, Route] = {
    "login": Route(PUBLIC),
    "onboarding:healthz": Route(PUBLIC),
    "logout": Route(SIGNED_IN_POST),
    "password_change": Route(SIGNED_IN),
    "password_change_done": Route(SIGNED_IN),
    "onboarding:home": Route(SIGNED_IN),
    "onboarding:hire_list": Route(SIGNED_IN),
    "onboarding:assignment_list": Route(SIGNED_IN),
    "onboarding:tuition": Route(SIGNED_IN),
    "onboarding:export_hires": Route(SIGNED_IN),
    "onboarding:export_assignments": Route(SIGNED_IN),
    "onboarding:export_tuition": Route(SIGNED_IN),
    "onboarding:outcomes": Route(SIGNED_IN),
    "onboarding:export_outcomes": Route(SIGNED_IN),
    "onboarding:export_check_ins": Route(SIGNED_IN),
    "onboarding:check_in": Route(OWNED, lambda w: {"pk": w["check_in"].pk}),
    "onboarding:profile": Route(SIGNED_IN),
    "onboarding:search": Route(SIGNED_IN),
    "onboarding:calendar_regenerate": Route(SIGNED_IN_POST),
    "onboarding:calendar_revoke": Route(SIGNED_IN_POST),
    "onboarding:api_token_create": Route(SIGNED_IN_POST),
    "onboarding:api_token_revoke": Route(PERSONAL_POST, lambda w: {"pk": w["api_token"].pk}),
    "onboarding:hire_create": Route(NEEDS_ADD_HIRE),
    "onboarding:hire_import": Route(NEEDS_ADD_HIRE),
    "onboarding:hire_bulk": Route(SIGNED_IN_POST),
    "onboarding:hire_import_template": Route(NEEDS_ADD_HIRE),
    "onboarding:hire_import_run": Route(OWNED, lambda w: {"pk": w["hire_import"].pk}),
    "onboarding:hire_import_progress": Route(OWNED, lambda w: {"pk": w["hire_import"].pk}),
    "onboarding:hire_detail": Route(OWNED, hire),
    "onboarding:hire_edit": Route(OWNED, hire),
    "onboarding:hire_archive": Route(OWNED_POST, hire),
    "onboarding:hire_unarchive": Route(OWNED_POST, hire),
    "onboarding:plan_create": Route(OWNED, lambda w: {"hire_pk": w["hire"].pk}),
    "onboarding:plan_detail": Route(OWNED, plan),
    "onboarding:plan_edit": Route(OWNED, plan),
    "onboarding:assignment_add": Route(OWNED_POST, plan),
    "onboarding:plan_guidance_attach": Route(OWNED_POST, plan),
    "onboarding:assignment_status": Route(OWNED_POST, assignment),
    "onboarding:assignment_edit": Route(OWNED, assignment),
    "onboarding:assignment_remove": Route(OWNED, assignment),
    "onboarding:assignment_move": Route(OWNED_POST, assignment),
    "onboarding:plan_guidance_update": Route(OWNED_POST, lambda w: {"pk": w["plan_guidance"].pk}),
    "onboarding:calendar_feed": Route(TOKEN, lambda w: {"token": w["token"]}),
    "onboarding:hire_invite": Route(OWNED_POST, hire),
    "onboarding:hire_invitation_revoke": Route(OWNED_POST, hire),
    "onboarding:evidence_download": Route(OWNED, lambda w: {"pk": w["evidence"].pk}),
    "onboarding:evidence_review": Route(OWNED_POST, lambda w: {"pk": w["evidence"].pk}),
    "onboarding:me": Route(ME),
    "onboarding:me_check_in": Route(ME, lambda w: {"pk": w["check_in"].pk}),
    "onboarding:me_progress": Route(ME_POST, assignment),
    "onboarding:me_evidence_add": Route(ME_POST, assignment),
    "onboarding:me_feedback": Route(ME_POST, assignment),
    "onboarding:me_acknowledge": Route(ME_POST, lambda w: {"pk": w["plan_guidance"].pk}),
    "onboarding:me_preferences": Route(ME_POST),
    "onboarding:invitation_accept": Route(INVITATION, lambda w: {"token": w["invitation_token"]}),
}
for _model in CATALOG:
    ROUTES[f"onboarding:{_model}_list"] = Route(SIGNED_IN)
    ROUTES[f"onboarding:{_model}_detail"] = Route(SIGNED_IN, lambda w, m=_model: {"pk": w[m].pk})
    ROUTES[f"onboarding:{_model}_create"] = Route(CATALOG_WRITE)
    ROUTES[f"onboarding:{_model}_edit"] = Route(CATALOG_WRITE, lambda w, m=_model: {"pk": w[m].pk})

# Admin URLs are generated per model; every one of them needs a staff sign-in (checked
# below for each), and scoping inside the admin is proven in test_admin.py.
ADMIN_NAMESPACE = "admin"


def iter_patterns(resolver: URLResolver, prefix: str = "", namespace: str | None = None):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from iter_patterns(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = entry.name
            if name and namespace:
                name = f"{namespace}:{name}"
            yield name, prefix + str(entry.pattern), namespace


def all_patterns():
    return list(iter_patterns(get_resolver()))


# The API's routes have a matrix of their own, with tokens: tests/test_api_access.py.
API_NAMESPACE = "api"


def test_it_knows_every_url_pattern():
    unknown = [
        (name, route)
        for name, route, namespace in all_patterns()
        if not (namespace or "").startswith(ADMIN_NAMESPACE)
        and namespace != API_NAMESPACE
        and name not in ROUTES
    ]
    assert not unknown, f"Teach tests/test_access_matrix.py these URL patterns: {unknown}"


def test_it_has_no_unnamed_patterns_outside_the_admin():
    unnamed = [
        route
        for name, route, namespace in all_patterns()
        if name is None and not (namespace or "").startswith(ADMIN_NAMESPACE)
    ]
    assert not unnamed, f"Name these URL patterns so the access matrix can cover them: {unnamed}"


def app_routes() -> list[tuple[str, Route]]:
    return [
        (name, ROUTES[name])
        for name, _, namespace in all_patterns()
        if not (namespace or "").startswith(ADMIN_NAMESPACE) and name in ROUTES
    ]


def routes_of(*kinds: str) -> list[str]:
    return [name for name, route in app_routes() if route.kind in kinds]


@pytest.fixture
def world(hire, plan, owner, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    template = PlanTemplateFactory()
    PlanTemplateItemFactory(template=template)
    the_assignment = AssignmentFactory(plan=plan)
    _, pending_token = services.invitation_send(actor=owner, hire=hire)
    hire.refresh_from_db()
    hire.account.set_password("hire-password-long-enough")
    hire.account.save()
    evidence = services.evidence_add(
        actor=hire.account,
        assignment=the_assignment,
        upload=SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof", content_type="application/pdf"),
    )
    return {
        "hire": hire,
        "plan": plan,
        "assignment": the_assignment,
        "evidence": evidence,
        "invitation_token": pending_token,
        "hire_account": hire.account,
        "plan_guidance": PlanGuidance.objects.get(plan=plan, guidance__slug=catalog.MILEAGE_SLUG),
        "course": CourseFactory(certification=CertificationFactory()),
        "certification": CertificationFactory(),
        "roleprofile": RoleProfileFactory(),
        "plantemplate": template,
        "guidance": GuidanceFactory(),
        "competency": Competency.objects.first(),
        "check_in": hire.check_ins.first(),
        "token": owner.regenerate_calendar_token(),
        "api_token": services.api_token_create(actor=owner, user=owner, name="sync")[0],
        # Started by the owner; its task never runs here (the test never commits).
        "hire_import": services.hire_import_start(
            actor=owner, content=b"", file_name="cohort.csv", template=None, rows_total=1
        ),
    }


def url(name: str, world: dict) -> str:
    return reverse(name, kwargs=ROUTES[name].kwargs(world))


def is_sign_in_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", is_superuser=True, is_staff=True)


@pytest.mark.parametrize("name", routes_of(PUBLIC))
def test_it_answers_public_routes_to_anyone(client, world, name):
    assert client.get(url(name, world)).status_code == 200


@pytest.mark.parametrize(
    "name",
    routes_of(
        SIGNED_IN,
        NEEDS_ADD_HIRE,
        OWNED,
        CATALOG_WRITE,
        SIGNED_IN_POST,
        OWNED_POST,
        ME,
        ME_POST,
        PERSONAL_POST,
    ),
)
def test_it_sends_anonymous_visitors_to_sign_in(client, world, name):
    post_only = (SIGNED_IN_POST, OWNED_POST, ME_POST, PERSONAL_POST)
    method = client.post if ROUTES[name].kind in post_only else client.get
    response = method(url(name, world))
    if name == "logout":
        # Signing out when not signed in just lands on the sign-in page.
        assert response["Location"] == reverse("login")
    else:
        assert is_sign_in_redirect(response), (name, response.status_code)


@pytest.mark.parametrize("name", routes_of(SIGNED_IN))
def test_it_answers_signed_in_routes_to_any_signed_in_user(client, plain_user, world, name):
    client.force_login(plain_user)
    assert client.get(url(name, world)).status_code == 200


@pytest.mark.parametrize("name", routes_of(SIGNED_IN_POST, OWNED_POST))
def test_it_refuses_get_on_post_only_routes(owner_client, world, name):
    assert owner_client.get(url(name, world)).status_code == 405


@pytest.mark.parametrize("name", routes_of(ME_POST))
def test_it_refuses_get_on_the_hires_post_only_routes(client, world, name):
    client.force_login(world["hire_account"])
    assert client.get(url(name, world)).status_code == 405


@pytest.mark.parametrize("name", routes_of(NEEDS_ADD_HIRE, CATALOG_WRITE))
def test_it_forbids_writes_without_the_permission(client, plain_user, world, name):
    client.force_login(plain_user)
    assert client.get(url(name, world)).status_code == 403


@pytest.mark.parametrize("name", routes_of(NEEDS_ADD_HIRE))
def test_it_lets_managers_add_hires(owner_client, world, name):
    assert owner_client.get(url(name, world)).status_code == 200


@pytest.mark.parametrize("name", routes_of(CATALOG_WRITE))
def test_it_lets_catalog_editors_write(client, editor, world, name):
    client.force_login(editor)
    assert client.get(url(name, world)).status_code == 200


@pytest.mark.parametrize("name", routes_of(OWNED))
def test_it_answers_404_to_a_manager_who_does_not_own_the_object(outsider_client, world, name):
    assert outsider_client.get(url(name, world)).status_code == 404


@pytest.mark.parametrize("name", routes_of(OWNED_POST))
def test_it_answers_404_to_a_foreign_write(outsider_client, world, name):
    assert outsider_client.post(url(name, world), {"status": "completed"}).status_code == 404


@pytest.mark.parametrize("name", routes_of(OWNED))
@pytest.mark.parametrize("persona", ["owner", "people_ops"])
def test_it_answers_the_owner_and_people_ops(client, request, world, name, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url(name, world)).status_code == 200


@pytest.mark.parametrize("name", routes_of(OWNED_POST))
@pytest.mark.parametrize("persona", ["owner", "people_ops"])
def test_it_accepts_writes_from_the_owner_and_people_ops(client, request, world, name, persona):
    client.force_login(request.getfixturevalue(persona))
    # An empty form is refused with a message or re-rendered, never a 404 or a 500.
    assert client.post(url(name, world)).status_code in (200, 302, 400)


@pytest.mark.parametrize("name", routes_of(TOKEN))
def test_it_serves_token_routes_by_token_alone(client, world, name):
    assert client.get(url(name, world)).status_code == 200
    wrong = reverse(name, kwargs={"token": "not-the-token"})
    assert client.get(wrong).status_code == 404


def test_it_needs_a_staff_sign_in_for_every_admin_page(client, plain_user, world):
    client.force_login(plain_user)
    checked = 0
    for name, _, namespace in all_patterns():
        if namespace != ADMIN_NAMESPACE or name in (None, "admin:login", "admin:logout"):
            continue
        try:
            path = reverse(name)
        except Exception:  # noqa: S112 - patterns with arguments are covered by test_admin
            continue
        response = client.get(path)
        assert response.status_code == 302, (name, response.status_code)
        assert response["Location"].startswith(reverse("admin:login")), name
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("name", routes_of(PERSONAL_POST))
@pytest.mark.parametrize("persona", ["outsider", "people_ops"])
def test_it_answers_404_to_anyone_but_the_owner_of_a_personal_thing(
    client, request, world, name, persona
):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(url(name, world)).status_code == 404


@pytest.mark.parametrize("name", routes_of(PERSONAL_POST))
def test_it_lets_the_owner_act_on_their_personal_thing(owner_client, world, name):
    assert owner_client.post(url(name, world)).status_code == 302


# --- the hire's own account ------------------------------------------------------------------


@pytest.mark.parametrize("name", routes_of(ME))
def test_it_serves_the_hire_their_own_area(client, world, name):
    client.force_login(world["hire_account"])
    assert client.get(url(name, world)).status_code == 200


@pytest.mark.parametrize("name", routes_of(ME_POST))
def test_it_takes_the_hires_own_writes(client, world, name):
    client.force_login(world["hire_account"])
    # An empty form is refused with a message, never a 404 or a 500.
    assert client.post(url(name, world)).status_code in (200, 302, 400)


@pytest.mark.parametrize("name", routes_of(ME, ME_POST))
@pytest.mark.parametrize("persona", ["owner", "people_ops"])
def test_it_answers_404_to_managers_in_the_hires_area(client, request, world, name, persona):
    client.force_login(request.getfixturevalue(persona))
    method = client.post if ROUTES[name].kind == ME_POST else client.get
    assert method(url(name, world)).status_code == 404


@pytest.mark.parametrize("name", routes_of(ME, ME_POST))
def test_it_answers_404_to_another_hire(client, owner, world, name):
    """A second hire's account never reaches the first hire's objects."""
    other = NewHireFactory(hiring_manager=owner, email="second@example.com")
    TrainingPlanFactory(hire=other)
    services.invitation_send(actor=owner, hire=other)
    other.refresh_from_db()
    client.force_login(other.account)
    if "pk" not in ROUTES[name].kwargs(world):
        return  # their own page, not someone else's object
    method = client.post if ROUTES[name].kind == ME_POST else client.get
    assert method(url(name, world)).status_code == 404


HIRE_KINDS = (ME, ME_POST, PUBLIC, TOKEN, INVITATION)


@pytest.mark.parametrize(
    "name",
    [n for n, route in app_routes() if route.kind not in HIRE_KINDS and n not in HIRE_URL_NAMES],
)
def test_it_answers_404_to_the_hire_everywhere_else(client, world, name):
    client.force_login(world["hire_account"])
    post_only = ROUTES[name].kind in (SIGNED_IN_POST, OWNED_POST)
    response = (client.post if post_only else client.get)(url(name, world))
    if name == "onboarding:home":
        assert response["Location"] == reverse("onboarding:me")
    else:
        assert response.status_code == 404, (name, response.status_code)


def test_it_lets_the_hire_download_only_their_own_evidence(client, world):
    client.force_login(world["hire_account"])
    assert client.get(url("onboarding:evidence_download", world)).status_code == 200


def test_it_answers_404_to_the_hire_on_every_admin_page(client, world):
    client.force_login(world["hire_account"])
    checked = 0
    for name, _, namespace in all_patterns():
        if namespace != ADMIN_NAMESPACE or name in (None, "admin:logout"):
            continue
        try:
            path = reverse(name)
        except Exception:  # noqa: S112 - patterns with arguments: same middleware, same answer
            continue
        assert client.get(path).status_code == 404, name
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("name", routes_of(INVITATION))
def test_it_answers_invitation_links_without_a_sign_in(client, world, name):
    assert client.get(url(name, world)).status_code == 200
    assert client.get(reverse(name, kwargs={"token": "unknown"})).status_code == 404
