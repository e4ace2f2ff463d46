"""Catalog pages: everyone signed in reads; the model's add/change permission writes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onboarding import catalog
from onboarding.models import (
    Certification,
    Course,
    Guidance,
    PlanTemplate,
    PlanTemplateItem,
    RoleProfile,
)

from .factories import (
    CertificationFactory,
    CourseFactory,
    GuidanceFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
    RoleProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

KINDS = {
    "course": CourseFactory,
    "certification": CertificationFactory,
    "roleprofile": RoleProfileFactory,
    "plantemplate": PlanTemplateFactory,
    "guidance": GuidanceFactory,
}


def grant(user, *codenames: str):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="onboarding", codename__in=codenames)
    )
    # Permissions are cached on the instance; a fresh one sees the new ones.
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def editor(db):
    user = UserFactory(username="editor")
    codenames = [f"{action}_{kind}" for kind in KINDS for action in ("add", "change")]
    return grant(user, *codenames)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def plain_client(client, plain_user):
    client.force_login(plain_user)
    return client


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_it_sends_anonymous_readers_to_sign_in(client, kind):
    obj = KINDS[kind]()
    for url in (
        reverse(f"onboarding:{kind}_list"),
        reverse(f"onboarding:{kind}_detail", args=[obj.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("kind", KINDS)
def test_it_lets_every_signed_in_user_read(plain_client, kind):
    obj = KINDS[kind]()
    listing = plain_client.get(reverse(f"onboarding:{kind}_list"), {"inactive": "1"})
    assert listing.status_code == 200
    assert obj.get_absolute_url() in listing.content.decode()
    detail = plain_client.get(obj.get_absolute_url())
    assert detail.status_code == 200
    # No edit controls for a reader without the permission.
    assert reverse(f"onboarding:{kind}_edit", args=[obj.pk]) not in detail.content.decode()


@pytest.mark.parametrize("kind", KINDS)
def test_it_answers_404_for_a_missing_entry(plain_client, kind):
    assert plain_client.get(reverse(f"onboarding:{kind}_detail", args=[999999])).status_code == 404


def test_it_searches_courses(plain_client):
    CourseFactory(title="Pricing strategy", provider="Acme")
    CourseFactory(title="Roadmaps", provider="Acme")
    html = plain_client.get(reverse("onboarding:course_list"), {"q": "pricing"}).content.decode()
    assert "Pricing strategy" in html
    assert "Roadmaps" not in html


def test_it_hides_inactive_courses_unless_asked(plain_client):
    CourseFactory(title="Retired course", active=False)
    url = reverse("onboarding:course_list")
    assert "Retired course" not in plain_client.get(url).content.decode()
    assert "Retired course" in plain_client.get(url, {"inactive": "1"}).content.decode()


def test_it_paginates_and_keeps_the_search(plain_client):
    for index in range(30):
        CourseFactory(title=f"Paged course {index:02d}", provider="Pager")
    url = reverse("onboarding:course_list")
    first = plain_client.get(url, {"q": "Paged"}).content.decode()
    assert "Page 1 of 2" in first
    assert "q=Paged&amp;page=2" in first
    second = plain_client.get(url, {"q": "Paged", "page": "2"})
    assert second.status_code == 200
    assert "Page 2 of 2" in second.content.decode()


def test_it_shows_an_empty_state_that_says_what_to_do(plain_client):
    html = plain_client.get(reverse("onboarding:course_list"), {"q": "zzz-nothing"}).content
    assert "Nothing matches your search." in html.decode()


def test_it_shows_template_items_with_their_offsets(plain_client):
    item = PlanTemplateItemFactory(due_offset_days=21, course=CourseFactory(title="Kickoff"))
    html = plain_client.get(item.template.get_absolute_url()).content.decode()
    assert "Kickoff" in html
    assert "21 days after the start date" in html


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("kind", ["course", "certification", "plantemplate"])
def test_it_lists_in_constant_queries(plain_client, kind):
    url = reverse(f"onboarding:{kind}_list")
    make = KINDS[kind]
    for _ in range(3):
        make(**({"certification": CertificationFactory()} if kind == "course" else {}))
    small = count_queries(plain_client, url)
    for _ in range(20):
        make(**({"certification": CertificationFactory()} if kind == "course" else {}))
    assert count_queries(plain_client, url) == small


# --- writing -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_it_sends_anonymous_writers_to_sign_in(client, kind):
    obj = KINDS[kind]()
    for url in (
        reverse(f"onboarding:{kind}_create"),
        reverse(f"onboarding:{kind}_edit", args=[obj.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("kind", KINDS)
def test_it_forbids_writes_without_the_permission(plain_client, kind):
    obj = KINDS[kind]()
    model = type(obj)
    before = list(model.objects.values())
    create = reverse(f"onboarding:{kind}_create")
    edit = reverse(f"onboarding:{kind}_edit", args=[obj.pk])
    assert plain_client.get(create).status_code == 403
    assert plain_client.get(edit).status_code == 403
    assert plain_client.post(create, {"name": "X", "title": "X"}).status_code == 403
    assert plain_client.post(edit, {"name": "X", "title": "X"}).status_code == 403
    assert list(model.objects.values()) == before


def test_it_forbids_managers_who_may_only_view_the_catalog(client, owner):
    client.force_login(owner)  # managers hold view_course, not add/change
    assert client.get(reverse("onboarding:course_create")).status_code == 403


@pytest.mark.parametrize("kind", KINDS)
def test_it_opens_the_forms_for_editors(editor_client, kind):
    obj = KINDS[kind]()
    assert editor_client.get(reverse(f"onboarding:{kind}_create")).status_code == 200
    assert editor_client.get(reverse(f"onboarding:{kind}_edit", args=[obj.pk])).status_code == 200


def test_it_needs_the_specific_permission(client, plain_user):
    user = grant(plain_user, "change_course")
    client.force_login(user)
    course = CourseFactory()
    assert client.get(reverse("onboarding:course_edit", args=[course.pk])).status_code == 200
    assert client.get(reverse("onboarding:course_create")).status_code == 403
    assert client.get(reverse("onboarding:certification_create")).status_code == 403


def course_data(**overrides) -> dict:
    data = {
        "title": "Product strategy",
        "provider": "Acme Institute",
        "delivery": "live_online",
        "duration_hours": "12",
        "tuition": "950.00",
        "currency": "USD",
        "certification": "",
        "url": "https://example.com/strategy",
        "description": "Two days on strategy.",
        "active": "on",
    }
    return {**data, **overrides}


def test_it_creates_a_course(editor_client):
    response = editor_client.post(reverse("onboarding:course_create"), course_data())
    course = Course.objects.get(title="Product strategy")
    assert response.status_code == 302
    assert response["Location"] == course.get_absolute_url()
    assert course.active


def test_it_refuses_negative_tuition_as_a_form_error(editor_client):
    response = editor_client.post(reverse("onboarding:course_create"), course_data(tuition="-1"))
    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert not Course.objects.filter(title="Product strategy").exists()


def test_it_reports_a_duplicate_course_as_a_form_error(editor_client):
    CourseFactory(title="Product strategy", provider="Acme Institute")
    response = editor_client.post(reverse("onboarding:course_create"), course_data())
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Course.objects.filter(title="Product strategy").count() == 1


def test_it_deactivates_a_course(editor_client):
    course = CourseFactory(title="Product strategy", provider="Acme Institute")
    data = course_data()
    del data["active"]
    response = editor_client.post(reverse("onboarding:course_edit", args=[course.pk]), data)
    course.refresh_from_db()
    assert response.status_code == 302
    assert not course.active


def test_it_creates_and_edits_a_certification(editor_client):
    response = editor_client.post(
        reverse("onboarding:certification_create"),
        {
            "name": "SAFe POPM",
            "issuer": "Scaled Agile",
            "abbreviation": "POPM",
            "framework_bound": "on",
        },
    )
    certification = Certification.objects.get(name="SAFe POPM")
    assert response.status_code == 302
    assert certification.framework_bound
    editor_client.post(
        reverse("onboarding:certification_edit", args=[certification.pk]),
        {"name": "SAFe POPM", "issuer": "Scaled Agile Inc.", "abbreviation": "POPM"},
    )
    certification.refresh_from_db()
    assert certification.issuer == "Scaled Agile Inc."
    assert not certification.framework_bound


def test_it_creates_a_role_profile_and_requires_expectations(editor_client):
    url = reverse("onboarding:roleprofile_create")
    response = editor_client.post(url, {"name": "Platform PM", "archetype": "technical"})
    assert response.status_code == 200
    assert not RoleProfile.objects.filter(name="Platform PM").exists()
    editor_client.post(
        url,
        {
            "name": "Platform PM",
            "archetype": "technical",
            "expectations": "APIs.",
            "active": "on",
            "expectations-TOTAL_FORMS": "0",
            "expectations-INITIAL_FORMS": "0",
        },
    )
    assert RoleProfile.objects.filter(name="Platform PM", active=True).exists()


def template_data(items: list[dict], initial: int = 0, **overrides) -> dict:
    data = {
        "name": "Fast start",
        "description": "The first quarter.",
        "active": "on",
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(initial),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(items):
        for key, value in item.items():
            data[f"items-{index}-{key}"] = value
    return {**data, **overrides}


def test_it_creates_a_plan_template_with_its_items(editor_client):
    first, second = CourseFactory(), CourseFactory()
    response = editor_client.post(
        reverse("onboarding:plantemplate_create"),
        template_data(
            [
                {"course": first.pk, "due_offset_days": "7", "position": "0"},
                {"course": second.pk, "due_offset_days": "30", "position": "1"},
                {"course": "", "due_offset_days": "", "position": ""},
            ]
        ),
    )
    template = PlanTemplate.objects.get(name="Fast start")
    assert response.status_code == 302
    assert list(template.items.values_list("course", "due_offset_days")) == [
        (first.pk, 7),
        (second.pk, 30),
    ]


def test_it_refuses_a_duplicate_course_and_an_offset_out_of_range(editor_client):
    course = CourseFactory()
    response = editor_client.post(
        reverse("onboarding:plantemplate_create"),
        template_data(
            [
                {"course": course.pk, "due_offset_days": "7", "position": "0"},
                {"course": course.pk, "due_offset_days": "9", "position": "1"},
            ]
        ),
    )
    assert response.status_code == 200
    assert "duplicate" in response.content.decode().lower()
    assert not PlanTemplate.objects.filter(name="Fast start").exists()

    response = editor_client.post(
        reverse("onboarding:plantemplate_create"),
        template_data([{"course": course.pk, "due_offset_days": "9999", "position": "0"}]),
    )
    assert response.status_code == 200
    assert "less than or equal to 730" in response.content.decode()
    assert not PlanTemplate.objects.filter(name="Fast start").exists()


def test_it_edits_and_removes_template_items(editor_client):
    template = PlanTemplateFactory(name="Fast start")
    keep = PlanTemplateItemFactory(template=template, due_offset_days=5)
    drop = PlanTemplateItemFactory(template=template, due_offset_days=6)
    response = editor_client.post(
        reverse("onboarding:plantemplate_edit", args=[template.pk]),
        template_data(
            [
                {"id": keep.pk, "course": keep.course_id, "due_offset_days": "10", "position": "0"},
                {
                    "id": drop.pk,
                    "course": drop.course_id,
                    "due_offset_days": "6",
                    "position": "1",
                    "DELETE": "on",
                },
            ],
            initial=2,
        ),
    )
    assert response.status_code == 302
    assert list(template.items.values_list("pk", "due_offset_days")) == [(keep.pk, 10)]
    assert not PlanTemplateItem.objects.filter(pk=drop.pk).exists()


def guidance_data(**overrides) -> dict:
    data = {
        "slug": "talk-to-sales",
        "title": "Talk to sales",
        "body": "Spend a day with the sales team.",
        "rule": "manual",
        "position": "5",
        "active": "on",
    }
    return {**data, **overrides}


def test_it_creates_guidance(editor_client):
    response = editor_client.post(reverse("onboarding:guidance_create"), guidance_data())
    assert response.status_code == 302
    assert Guidance.objects.filter(slug="talk-to-sales", rule="manual").exists()


def test_it_refuses_to_deactivate_guidance_every_plan_carries(editor_client):
    always = GuidanceFactory(rule=Guidance.Rule.ALWAYS, slug="every-plan")
    data = guidance_data(slug="every-plan", rule="always")
    del data["active"]
    response = editor_client.post(reverse("onboarding:guidance_edit", args=[always.pk]), data)
    always.refresh_from_db()
    assert response.status_code == 200
    assert "cannot be deactivated" in response.content.decode()
    assert always.active


def test_it_keeps_the_mileage_guidance_rule_and_slug_fixed(editor_client):
    mileage = Guidance.objects.get(slug=catalog.MILEAGE_SLUG)
    response = editor_client.post(
        reverse("onboarding:guidance_edit", args=[mileage.pk]),
        guidance_data(slug="renamed", rule="manual", title=mileage.title, body="New words."),
    )
    mileage.refresh_from_db()
    assert response.status_code == 302
    assert mileage.slug == catalog.MILEAGE_SLUG
    assert mileage.rule == Guidance.Rule.ALWAYS
    assert mileage.body == "New words."


def test_it_counts_only_a_managers_own_plans_on_a_guidance_page(
    owner_client, owner, outsider, people_ops, client
):
    from onboarding.models import Guidance

    from .factories import NewHireFactory, TrainingPlanFactory

    mileage = Guidance.objects.get(slug="mileage-may-vary")
    TrainingPlanFactory(hire=NewHireFactory(hiring_manager=owner))
    for _ in range(2):
        TrainingPlanFactory(hire=NewHireFactory(hiring_manager=outsider))
    url = reverse("onboarding:guidance_detail", args=[mileage.pk])

    body = owner_client.get(url).content.decode()
    assert "1 of your hires' plan<" in body
    # An internal identifier means nothing to a reader who cannot edit the library.
    assert "Identifier" not in body and "mileage-may-vary" not in body

    client.force_login(people_ops)
    assert "3 plans<" in client.get(url).content.decode()


def test_it_shows_the_guidance_identifier_to_editors(editor_client):
    from onboarding.models import Guidance

    mileage = Guidance.objects.get(slug="mileage-may-vary")
    body = editor_client.get(reverse("onboarding:guidance_detail", args=[mileage.pk])).content
    assert b"<code>mileage-may-vary</code>" in body


def test_it_lets_an_editor_name_the_role_profiles_a_template_suits(editor_client):
    from onboarding.models import PlanTemplate, RoleProfile

    profile = RoleProfile.objects.get(name="Generalist product manager")
    data = template_data([], suits_role_profiles=[str(profile.pk)])
    response = editor_client.post(reverse("onboarding:plantemplate_create"), data)
    template = PlanTemplate.objects.get(name="Fast start")
    assert response.status_code == 302
    assert list(template.suits_role_profiles.all()) == [profile]
    page = editor_client.get(template.get_absolute_url()).content.decode()
    assert f'<a href="{profile.get_absolute_url()}">Generalist product manager</a>' in page
