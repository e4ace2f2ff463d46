"""Every API route against every persona, with read and read-write tokens.

The routes come from the URL resolver (namespace "api"), so a new endpoint cannot
escape: one without an entry in ROUTES fails until someone says how it is reached.
Personas: anonymous, the owner (a hiring manager), an outsider (another manager),
people-ops, a signed-in user with no hires, and a hire's own account.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import CheckIn, Competency, NewHire

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    HeldCertificationFactory,
    PlanTemplateFactory,
    UserFactory,
)
from .test_access_matrix import all_patterns

OWNED = "owned"  # an object of the owner's hire: outsiders get 404
OWNED_LIST = "owned_list"  # a list: outsiders see it without the owner's objects
CATALOG = "catalog"  # everyone signed in reads; nobody writes through the API
DOCS = "docs"  # the schema and its page


@dataclass
class ApiRoute:
    kind: str
    obj: str = ""  # key of the world's object the route is about
    patch: dict = field(default_factory=dict)  # a change the owner may make (detail routes)
    post: Callable[[dict], dict] | None = None  # body of a create (list routes)
    delete: bool = False
    action: bool = False  # a POST-only action on one object


def _due(days: int = 30) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


ROUTES: dict[str, ApiRoute] = {
    "api:hire-list": ApiRoute(
        OWNED_LIST,
        obj="hire",
        post=lambda w: {
            "full_name": "New One",
            "email": f"new-{w['n']}@example.com",
            "start_date": "2026-03-02",
        },
    ),
    "api:hire-detail": ApiRoute(OWNED, obj="hire", patch={"title": "Lead PM"}),
    "api:hire-archive": ApiRoute(OWNED, obj="hire", action=True),
    "api:hire-unarchive": ApiRoute(OWNED, obj="hire", action=True),
    "api:plan-list": ApiRoute(OWNED_LIST, obj="plan", post=lambda w: {"hire": w["hire"].pk}),
    "api:plan-detail": ApiRoute(OWNED, obj="plan", patch={"title": "Ramp plan"}),
    "api:assignment-list": ApiRoute(
        OWNED_LIST,
        obj="assignment",
        post=lambda w: {"plan": w["plan"].pk, "course": w["new_course"].pk, "due_date": _due()},
    ),
    "api:assignment-detail": ApiRoute(
        OWNED, obj="assignment", patch={"notes": "Booked"}, delete=True
    ),
    "api:planguidance-list": ApiRoute(OWNED_LIST, obj="plan_guidance"),
    "api:planguidance-detail": ApiRoute(OWNED, obj="plan_guidance", patch={"discussed": True}),
    "api:heldcertification-list": ApiRoute(
        OWNED_LIST,
        obj="held",
        post=lambda w: {
            "hire": w["hire"].pk,
            "certification": w["certification"].pk,
            "earned_on": "2025-05-05",
        },
    ),
    "api:heldcertification-detail": ApiRoute(
        OWNED, obj="held", patch={"expires_on": "2030-01-01"}, delete=True
    ),
    "api:checkin-list": ApiRoute(OWNED_LIST, obj="check_in"),
    "api:checkin-detail": ApiRoute(OWNED, obj="check_in", patch={"summary": "Going well."}),
    "api:course-list": ApiRoute(CATALOG),
    "api:course-detail": ApiRoute(CATALOG, obj="course"),
    "api:certification-list": ApiRoute(CATALOG),
    "api:certification-detail": ApiRoute(CATALOG, obj="certification"),
    "api:roleprofile-list": ApiRoute(CATALOG),
    "api:roleprofile-detail": ApiRoute(CATALOG, obj="role_profile"),
    "api:plantemplate-list": ApiRoute(CATALOG),
    "api:plantemplate-detail": ApiRoute(CATALOG, obj="template"),
    "api:guidance-list": ApiRoute(CATALOG),
    "api:guidance-detail": ApiRoute(CATALOG, obj="guidance"),
    "api:competency-list": ApiRoute(CATALOG),
    "api:competency-detail": ApiRoute(CATALOG, obj="competency"),
    "api:schema": ApiRoute(DOCS),
    "api:docs": ApiRoute(DOCS),
}


def api_patterns() -> list[str]:
    return [name for name, _, namespace in all_patterns() if namespace == "api"]


def test_it_knows_every_api_route():
    unknown = [name for name in api_patterns() if name not in ROUTES]
    assert not unknown, f"Teach tests/test_api_access.py these API routes: {unknown}"
    assert set(ROUTES) == set(api_patterns())


@pytest.fixture
def world(hire, plan):
    assignment = AssignmentFactory(plan=plan)
    certification = CertificationFactory()
    held = HeldCertificationFactory(hire=hire, certification=certification)
    course = CourseFactory()
    return {
        "n": 1,
        "hire": hire,
        "plan": plan,
        "assignment": assignment,
        "plan_guidance": plan.guidance.first(),
        "held": held,
        "check_in": CheckIn.objects.filter(hire=hire).first(),
        "certification": CertificationFactory(),
        "new_course": CourseFactory(),
        "course": course,
        "role_profile": hire.role_profile,
        "template": PlanTemplateFactory(),
        "guidance": plan.guidance.first().guidance,
        "competency": Competency.objects.order_by("pk").first(),
    }


def url(name: str, world: dict) -> str:
    route = ROUTES[name]
    if name.endswith("-list") or route.kind == DOCS:
        return reverse(name)
    return reverse(name, kwargs={"pk": world[route.obj].pk})


def token_for(user, scope: str) -> dict:
    _, secret = services.api_token_create(actor=user, user=user, name=scope, scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def writes(name: str, world: dict) -> list[tuple[str, dict]]:
    """The write requests a route takes: (method, body)."""
    route = ROUTES[name]
    found = []
    if route.post is not None:
        found.append(("post", route.post(world)))
    if route.action:
        found.append(("post", {}))
    if route.patch:
        found.append(("patch", route.patch))
    if route.delete:
        found.append(("delete", {}))
    return found


def send(client, method: str, path: str, body: dict, world: dict, name: str, **headers):
    route = ROUTES[name]
    if method in ("patch", "delete"):
        headers["HTTP_IF_MATCH"] = f'"{world[route.obj].version}"'
    if method == "delete":
        return client.delete(path, **headers)
    return getattr(client, method)(path, body, content_type="application/json", **headers)


WRITE_ROUTES = [
    name
    for name, route in ROUTES.items()
    if route.post or route.patch or route.delete or route.action
]
OBJECT_ROUTES = [name for name, route in ROUTES.items() if route.kind == OWNED and not route.action]


@pytest.mark.parametrize("name", list(ROUTES))
def test_it_answers_anonymous_callers_401_or_sign_in(client, world, name):
    response = client.get(url(name, world))
    if name == "api:docs":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif ROUTES[name].action:
        assert client.post(url(name, world)).status_code == 401
    else:
        assert response.status_code == 401


@pytest.mark.parametrize("name", list(ROUTES))
def test_it_answers_404_to_a_hires_own_account(client, world, name):
    account = UserFactory(username="hana-herself", is_hire_account=True)
    NewHire.objects.filter(pk=world["hire"].pk).update(account=account)
    client.force_login(account)
    method = "post" if ROUTES[name].action else "get"
    assert getattr(client, method)(url(name, world)).status_code == 404


@pytest.mark.parametrize("name", [n for n in ROUTES if not ROUTES[n].action])
@pytest.mark.parametrize("persona", ["owner", "people_ops"])
def test_it_lets_the_owner_and_people_ops_read(client, request, world, name, persona):
    user = request.getfixturevalue(persona)
    if name == "api:docs":
        client.force_login(user)  # a page for a browser: it signs in, then reads the schema
    response = client.get(url(name, world), **token_for(user, "read"))
    assert response.status_code == 200
    if ROUTES[name].kind == OWNED_LIST:
        ids = [row["id"] for row in response.json()["results"]]
        assert world[ROUTES[name].obj].pk in ids


@pytest.mark.parametrize("name", OBJECT_ROUTES)
def test_it_answers_404_to_an_outsider_for_the_owners_object(client, outsider, world, name):
    headers = token_for(outsider, "write")
    path = url(name, world)
    assert client.get(path, **headers).status_code == 404
    for method, body in writes(name, world):
        assert send(client, method, path, body, world, name, **headers).status_code == 404


@pytest.mark.parametrize("name", [n for n in ROUTES if ROUTES[n].kind == OWNED_LIST])
@pytest.mark.parametrize("persona", ["outsider", "plain_user"])
def test_it_leaves_the_owners_objects_out_of_other_lists(client, request, world, name, persona):
    user = request.getfixturevalue(persona)
    response = client.get(url(name, world), **token_for(user, "read"))
    assert response.status_code == 200
    assert response.json()["results"] == []


# A hire is made under nobody's object; everything else under a hire or a plan.
@pytest.mark.parametrize("name", [n for n in ROUTES if ROUTES[n].post and n != "api:hire-list"])
def test_it_refuses_an_outsider_a_create_under_the_owners_objects(client, outsider, world, name):
    body = ROUTES[name].post(world)
    response = client.post(
        url(name, world), body, content_type="application/json", **token_for(outsider, "write")
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) & {"hire", "plan"}


@pytest.mark.parametrize("name", WRITE_ROUTES)
def test_it_refuses_every_write_with_a_read_token(client, owner, world, name):
    headers = token_for(owner, "read")
    versions = {key: getattr(obj, "version", None) for key, obj in world.items() if key != "n"}
    for method, body in writes(name, world):
        response = send(client, method, url(name, world), body, world, name, **headers)
        assert response.status_code == 403, (method, response.content)
    for key, obj in world.items():
        if key != "n" and hasattr(obj, "refresh_from_db"):
            obj.refresh_from_db()
            assert getattr(obj, "version", None) == versions[key], key


@pytest.mark.parametrize("name", WRITE_ROUTES)
@pytest.mark.parametrize("persona", ["owner", "people_ops"])
def test_it_takes_writes_with_a_read_write_token(client, request, world, name, persona):
    headers = token_for(request.getfixturevalue(persona), "write")
    for method, body in writes(name, world):
        response = send(client, method, url(name, world), body, world, name, **headers)
        assert response.status_code in (200, 201, 204), (method, response.content)
        world["n"] += 1
        obj = world.get(ROUTES[name].obj)
        if method != "delete" and obj is not None and hasattr(obj, "refresh_from_db"):
            obj.refresh_from_db()


@pytest.mark.parametrize("name", [n for n in ROUTES if ROUTES[n].kind == CATALOG])
def test_it_refuses_catalog_writes_even_with_a_write_token(client, people_ops, world, name):
    headers = token_for(people_ops, "write")
    response = client.post(url(name, world), {}, content_type="application/json", **headers)
    assert response.status_code == 405
