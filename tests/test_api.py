"""The JSON API at /api/v1/: tokens, scoping, writes through services, ETag/If-Match,
problem details, cursor pages."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onboarding import services
from onboarding.models import ApiToken, Assignment, CheckIn, NewHire, PlanGuidance, TrainingPlan

from .factories import (
    AssignmentFactory,
    CertificationFactory,
    CourseFactory,
    HeldCertificationFactory,
    NewHireFactory,
    PlanTemplateFactory,
    PlanTemplateItemFactory,
    RoleProfileFactory,
    UserFactory,
)


def make_token(user, scope="write") -> str:
    _, secret = services.api_token_create(actor=user, user=user, name="test", scope=scope)
    return secret


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def owner_token(owner) -> str:
    return make_token(owner)


@pytest.fixture
def api(client, owner_token):
    """The owner's client with a read-write token."""

    class Api:
        def get(self, path, **extra):
            return client.get(path, **bearer(owner_token), **extra)

        def post(self, path, data=None, **extra):
            return client.post(
                path, data or {}, content_type="application/json", **bearer(owner_token), **extra
            )

        def patch(self, path, data, etag=None, **extra):
            if etag is not None:
                extra["HTTP_IF_MATCH"] = etag
            return client.patch(
                path, data, content_type="application/json", **bearer(owner_token), **extra
            )

        def delete(self, path, etag=None, **extra):
            if etag is not None:
                extra["HTTP_IF_MATCH"] = etag
            return client.delete(path, **bearer(owner_token), **extra)

    return Api()


# --- tokens ------------------------------------------------------------------------------------


def test_it_stores_only_a_hash_of_the_token(owner):
    token, secret = services.api_token_create(actor=owner, user=owner, name="HRIS")
    assert secret.startswith("obt_")
    assert secret not in {token.hash, token.prefix}
    assert token.hash == ApiToken.hash_of(secret)
    assert secret.startswith(token.prefix)


def test_it_answers_401_without_a_token(client, hire):
    response = client.get("/api/v1/hires/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_a_wrong_revoked_or_foreign_looking_token(client, owner, hire):
    token, secret = services.api_token_create(actor=owner, user=owner, name="x")
    wrong = secret[:-1] + ("B" if secret.endswith("A") else "A")
    assert client.get("/api/v1/hires/", **bearer(wrong)).status_code == 401
    assert client.get("/api/v1/hires/", **bearer("not-a-token")).status_code == 401
    assert client.get("/api/v1/hires/", HTTP_AUTHORIZATION="Bearer a b").status_code == 401
    services.api_token_revoke(actor=owner, token=token)
    assert client.get("/api/v1/hires/", **bearer(secret)).status_code == 401


def test_it_records_when_a_token_was_last_used(client, owner, hire):
    token, secret = services.api_token_create(actor=owner, user=owner, name="x")
    assert token.last_used_at is None
    client.get("/api/v1/hires/", **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_stops_a_token_of_a_deactivated_account(client, owner, hire):
    secret = make_token(owner)
    owner.is_active = False
    owner.save()
    assert client.get("/api/v1/hires/", **bearer(secret)).status_code == 401


def test_it_lets_a_read_token_read_but_not_write(client, owner, hire):
    secret = make_token(owner, scope="read")
    assert client.get("/api/v1/hires/", **bearer(secret)).status_code == 200
    response = client.patch(
        f"/api/v1/hires/{hire.pk}/",
        {"title": "Lead"},
        content_type="application/json",
        HTTP_IF_MATCH='"1"',
        **bearer(secret),
    )
    assert response.status_code == 403
    assert "read-write" in response.json()["detail"]
    hire.refresh_from_db()
    assert hire.title == "Product Manager"


def test_it_creates_a_token_from_the_command(owner, capsys):
    call_command("create_api_token", "owner", "--name", "HRIS", "--scope", "write")
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get(user=owner)
    assert token.scope == "write" and token.name == "HRIS"
    assert token.hash == ApiToken.hash_of(secret)


def test_it_refuses_a_token_for_a_missing_user_in_the_command(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody", "--name", "x")


def test_it_throttles_per_token(client, owner, hire, settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
    }
    try:
        secret = make_token(owner)
        codes = [client.get("/api/v1/hires/", **bearer(secret)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        other = make_token(UserFactory(username="second"))
        assert client.get("/api/v1/hires/", **bearer(other)).status_code == 200
    finally:
        cache.clear()


# --- scoping -------------------------------------------------------------------------------------


def test_it_lists_only_the_callers_hires(api, hire, outsider):
    NewHireFactory(hiring_manager=outsider)
    body = api.get("/api/v1/hires/").json()
    assert [row["id"] for row in body["results"]] == [hire.pk]
    assert body["results"][0]["hiring_manager"] == "owner"


def test_it_answers_404_for_another_managers_hire(api, outsider):
    other = NewHireFactory(hiring_manager=outsider)
    response = api.get(f"/api/v1/hires/{other.pk}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_it_answers_404_for_ids_no_row_can_have(api, hire):
    for path in ("/api/v1/hires/99999999999999999999999/", "/api/v1/hires/abc/"):
        assert api.get(path).status_code == 404


def test_it_refuses_a_plan_for_another_managers_hire(api, outsider):
    other = NewHireFactory(hiring_manager=outsider)
    response = api.post("/api/v1/plans/", {"hire": other.pk})
    assert response.status_code == 400
    assert "hire" in response.json()["errors"]
    assert not TrainingPlan.objects.filter(hire=other).exists()


def test_it_shows_people_ops_every_hire(client, people_ops, hire, outsider):
    NewHireFactory(hiring_manager=outsider)
    secret = make_token(people_ops, scope="read")
    assert len(client.get("/api/v1/hires/", **bearer(secret)).json()["results"]) == 2


def test_it_answers_404_to_a_hires_own_account(client, hire, owner):
    account = UserFactory(username="hana", is_hire_account=True)
    client.force_login(account)
    assert client.get("/api/v1/hires/").status_code == 404
    with pytest.raises(Exception, match="hire's own account"):
        services.api_token_create(actor=account, user=account, name="x")


# --- hires ---------------------------------------------------------------------------------------


def test_it_creates_a_hire_through_the_service(api, owner):
    response = api.post(
        "/api/v1/hires/",
        {"full_name": "Ada API", "email": "ADA@Example.com", "start_date": "2026-01-05"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    hire = NewHire.objects.get(pk=body["id"])
    assert hire.email == "ada@example.com"  # the service's one spelling
    assert hire.hiring_manager == owner
    assert hire.history.first().history_user == owner
    assert response["ETag"] == '"1"'


def test_it_refuses_a_duplicate_email_in_any_case(api, hire):
    response = api.post(
        "/api/v1/hires/",
        {"full_name": "Twin", "email": "HANA@example.com", "start_date": "2026-01-05"},
    )
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


def test_it_refuses_another_manager_for_a_manager(api, outsider):
    response = api.post(
        "/api/v1/hires/",
        {
            "full_name": "Ada",
            "email": "ada@example.com",
            "start_date": "2026-01-05",
            "hiring_manager": "outsider",
        },
    )
    assert response.status_code == 400
    assert "hiring_manager" in response.json()["errors"]
    assert not NewHire.objects.filter(email="ada@example.com").exists()


def test_it_answers_validation_errors_as_problem_details(api):
    response = api.post("/api/v1/hires/", {"full_name": "", "start_date": "soon"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Invalid request" and body["status"] == 400
    assert {"full_name", "email", "start_date"} <= set(body["errors"])


def test_it_refuses_a_nul_byte_and_an_over_long_value(api):
    response = api.post(
        "/api/v1/hires/",
        {"full_name": "A\x00B", "email": "a@example.com", "start_date": "2026-01-05"},
    )
    assert response.status_code == 400
    response = api.post(
        "/api/v1/hires/",
        {"full_name": "A" * 500, "email": "a@example.com", "start_date": "2026-01-05"},
    )
    assert response.status_code == 400
    assert not NewHire.objects.filter(email="a@example.com").exists()


def test_it_refuses_a_date_the_product_does_not_keep(api):
    response = api.post(
        "/api/v1/hires/",
        {"full_name": "Old", "email": "old@example.com", "start_date": "0001-01-01"},
    )
    assert response.status_code == 400
    assert "start_date" in response.json()["errors"]


def test_it_filters_with_the_pages_filterset(api, owner):
    NewHireFactory(hiring_manager=owner, full_name="Zed Zulu")
    NewHireFactory(hiring_manager=owner, full_name="Yan Young")
    body = api.get("/api/v1/hires/?q=zulu").json()
    assert [row["full_name"] for row in body["results"]] == ["Zed Zulu"]
    response = api.get("/api/v1/hires/?start_after=not-a-date")
    assert response.status_code == 400
    assert "start_after" in response.json()["errors"]


def test_it_archives_and_hides_a_hire(api, hire):
    assert api.post(f"/api/v1/hires/{hire.pk}/archive/").status_code == 200
    assert api.get("/api/v1/hires/").json()["results"] == []
    assert len(api.get("/api/v1/hires/?archived=all").json()["results"]) == 1


# --- optimistic locking --------------------------------------------------------------------------


def test_it_sends_the_version_as_etag(api, hire):
    response = api.get(f"/api/v1/hires/{hire.pk}/")
    assert response["ETag"] == f'"{hire.version}"'
    assert response.json()["version"] == hire.version


def test_it_requires_if_match_on_update(api, hire):
    response = api.patch(f"/api/v1/hires/{hire.pk}/", {"title": "Lead PM"})
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    hire.refresh_from_db()
    assert hire.title == "Product Manager"


def test_it_updates_with_the_current_etag(api, hire):
    etag = api.get(f"/api/v1/hires/{hire.pk}/")["ETag"]
    response = api.patch(f"/api/v1/hires/{hire.pk}/", {"title": "Lead PM"}, etag=etag)
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Lead PM"
    assert response["ETag"] == '"2"'


def test_it_refuses_a_stale_etag_with_what_changed(api, hire, owner):
    etag = api.get(f"/api/v1/hires/{hire.pk}/")["ETag"]
    services.hire_update(actor=owner, hire=NewHire.objects.get(pk=hire.pk), title="Changed")
    response = api.patch(f"/api/v1/hires/{hire.pk}/", {"notes": "mine"}, etag=etag)
    assert response.status_code == 412
    body = response.json()
    assert body["changed"]["title"] == {"yours": "Product Manager", "saved": "Changed"}
    assert response["ETag"] == '"2"'
    hire.refresh_from_db()
    assert hire.notes == ""


def test_it_refuses_a_malformed_etag(api, hire):
    response = api.patch(f"/api/v1/hires/{hire.pk}/", {"title": "x"}, etag='"abc"')
    assert response.status_code == 412


def test_it_accepts_a_weak_etag_and_a_star(api, hire):
    assert api.patch(f"/api/v1/hires/{hire.pk}/", {"title": "A"}, etag='W/"1"').status_code == 200
    assert api.patch(f"/api/v1/hires/{hire.pk}/", {"title": "B"}, etag="*").status_code == 200


# --- plans, assignments, guidance ----------------------------------------------------------------


def test_it_creates_a_plan_from_a_template_with_its_guidance(api, hire):
    template = PlanTemplateFactory()
    PlanTemplateItemFactory(template=template, due_offset_days=14)
    response = api.post("/api/v1/plans/", {"hire": hire.pk, "template": template.pk})
    assert response.status_code == 201, response.json()
    plan = TrainingPlan.objects.get(pk=response.json()["id"])
    assert plan.assignments.get().due_date == hire.start_date + datetime.timedelta(days=14)
    # The "mileage may vary" guidance every plan carries.
    guidance = api.get(f"/api/v1/plan-guidance/?plan={plan.pk}").json()["results"]
    assert any(row["title"] for row in guidance)
    assert PlanGuidance.objects.filter(plan=plan, guidance__rule="always").exists()


def test_it_completes_an_assignment_and_records_the_certification(api, plan):
    certification = CertificationFactory()
    assignment = AssignmentFactory(plan=plan, course=CourseFactory(certification=certification))
    today = timezone.localdate().isoformat()
    response = api.patch(
        f"/api/v1/assignments/{assignment.pk}/",
        {"status": "completed", "completed_on": today, "certification_earned_on": today},
        etag='"1"',
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "completed"
    assert plan.hire.certifications.filter(certification=certification).exists()


def test_it_needs_a_reason_to_waive(api, plan):
    assignment = AssignmentFactory(plan=plan)
    url = f"/api/v1/assignments/{assignment.pk}/"
    response = api.patch(url, {"status": "waived"}, etag='"1"')
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    response = api.patch(url, {"status": "waived", "reason": "Did it before"}, etag='"1"')
    assert response.status_code == 200
    assert "Did it before" in response.json()["notes"]


def test_it_changes_fields_and_status_in_one_write(api, plan):
    assignment = AssignmentFactory(plan=plan)
    response = api.patch(
        f"/api/v1/assignments/{assignment.pk}/",
        {"notes": "Booked", "status": "in_progress"},
        etag='"1"',
    )
    assert response.status_code == 200, response.json()
    assignment.refresh_from_db()
    assert (assignment.notes, assignment.status) == ("Booked", "in_progress")


def test_it_adds_and_removes_an_assignment(api, plan):
    course = CourseFactory()
    due = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    response = api.post(
        "/api/v1/assignments/", {"plan": plan.pk, "course": course.pk, "due_date": due}
    )
    assert response.status_code == 201, response.json()
    again = api.post(
        "/api/v1/assignments/", {"plan": plan.pk, "course": course.pk, "due_date": due}
    )
    assert again.status_code == 400
    url = f"/api/v1/assignments/{response.json()['id']}/"
    assert api.delete(url).status_code == 428
    assert api.delete(url, etag='"7"').status_code == 412
    assert api.delete(url, etag='"1"').status_code == 204
    assert not Assignment.objects.filter(plan=plan, course=course).exists()


def test_it_filters_assignments_like_the_page(api, plan):
    late = AssignmentFactory(plan=plan, due_date=timezone.localdate() - datetime.timedelta(days=5))
    AssignmentFactory(plan=plan)
    body = api.get("/api/v1/assignments/?overdue=true").json()
    assert [row["id"] for row in body["results"]] == [late.pk]
    assert body["results"][0]["tuition_cost"] is None


def test_it_sends_decimals_as_strings(api, plan):
    AssignmentFactory(plan=plan, tuition_cost="1295.00")
    row = api.get("/api/v1/assignments/").json()["results"][0]
    assert row["tuition_cost"] == "1295.00"


def test_it_marks_guidance_discussed_with_a_note(api, plan, owner):
    attached = plan.guidance.first()
    response = api.patch(
        f"/api/v1/plan-guidance/{attached.pk}/",
        {"discussed": True, "manager_note": "We talked about the role here."},
        etag=f'"{attached.version}"',
    )
    assert response.status_code == 200, response.json()
    attached.refresh_from_db()
    assert attached.acknowledged_by == owner
    assert attached.manager_note == "We talked about the role here."
    undiscussed = api.get(f"/api/v1/plan-guidance/?plan={plan.pk}&discussed=false").json()
    assert attached.pk not in [row["id"] for row in undiscussed["results"]]


def test_it_records_and_corrects_a_held_certification(api, hire):
    certification = CertificationFactory()
    response = api.post(
        "/api/v1/held-certifications/",
        {"hire": hire.pk, "certification": certification.pk, "earned_on": "2025-03-01"},
    )
    assert response.status_code == 201, response.json()
    url = f"/api/v1/held-certifications/{response.json()['id']}/"
    bad = api.patch(url, {"expires_on": "2024-01-01"}, etag='"1"')
    assert bad.status_code == 400
    assert api.patch(url, {"expires_on": "2028-01-01"}, etag='"1"').status_code == 200
    assert api.delete(url, etag='"2"').status_code == 204


def test_it_hides_another_managers_held_certification(api, outsider):
    held = HeldCertificationFactory(hire=NewHireFactory(hiring_manager=outsider))
    assert api.get(f"/api/v1/held-certifications/{held.pk}/").status_code == 404
    assert api.delete(f"/api/v1/held-certifications/{held.pk}/", etag='"1"').status_code == 404


# --- check-ins -------------------------------------------------------------------------------


def test_it_rates_and_completes_a_check_in(api, plan, hire):
    check_in = CheckIn.objects.get(hire=hire, kind="baseline")
    body = api.get(f"/api/v1/check-ins/{check_in.pk}/").json()
    assert body["state"] in ("due", "overdue")
    from onboarding.selectors import check_in_competencies

    competencies = check_in_competencies(check_in)
    first, rest = competencies[0], competencies[1:]
    url = f"/api/v1/check-ins/{check_in.pk}/"
    response = api.patch(
        url, {"ratings": [{"competency": first.pk, "manager_level": 2}]}, etag='"1"'
    )
    assert response.status_code == 200, response.json()
    # Completing needs every competency rated; the one rated before counts.
    response = api.patch(url, {"complete": True}, etag='"2"')
    assert response.status_code == 400
    response = api.patch(
        url,
        {
            "ratings": [{"competency": c.pk, "manager_level": 3} for c in rest],
            "summary": "Ramping well.",
            "complete": True,
        },
        etag='"2"',
    )
    assert response.status_code == 200, response.json()
    check_in.refresh_from_db()
    assert check_in.completed_at is not None
    assert check_in.ratings.get(competency=first).manager_level == 2


# --- catalog and pages ---------------------------------------------------------------------------


def test_it_serves_the_catalog_read_only(api):
    RoleProfileFactory(name="Platform PM")
    body = api.get("/api/v1/role-profiles/").json()
    assert "Platform PM" in [row["name"] for row in body["results"]]
    assert api.post("/api/v1/courses/", {"title": "x"}).status_code == 405
    assert api.get("/api/v1/plan-templates/").status_code == 200
    assert api.get("/api/v1/guidance/").status_code == 200
    assert api.get("/api/v1/competencies/").status_code == 200
    assert api.get("/api/v1/certifications/").status_code == 200


def test_it_pages_by_cursor_without_repeats(api, owner):
    NewHireFactory.create_batch(7, hiring_manager=owner)
    seen, url = [], "/api/v1/hires/?page_size=3"
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen)


def test_it_reads_a_hires_page_in_a_fixed_number_of_queries(api, owner):
    NewHireFactory.create_batch(3, hiring_manager=owner)
    api.get("/api/v1/hires/")  # records the token's first use (a write once a minute)
    with CaptureQueriesContext(connection) as small:
        assert api.get("/api/v1/hires/").status_code == 200
    NewHireFactory.create_batch(30, hiring_manager=owner)
    with CaptureQueriesContext(connection) as large:
        assert api.get("/api/v1/hires/").status_code == 200
    assert len(small) == len(large)


def test_it_serves_the_schema_and_docs_to_signed_in_people(client, owner, owner_token):
    assert client.get("/api/schema/").status_code == 401
    assert client.get("/api/docs/").status_code == 302
    schema = client.get("/api/schema/", **bearer(owner_token))
    assert schema.status_code == 200
    assert b"/api/v1/hires/" in schema.content
    client.force_login(owner)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui-bundle.js" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_it_takes_writes_from_a_session_only_with_csrf(owner, hire):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.patch(
        f"/api/v1/hires/{hire.pk}/",
        {"title": "X"},
        content_type="application/json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


# --- the profile page ----------------------------------------------------------------------------


def test_it_makes_a_token_on_the_profile_page_and_shows_it_once(owner_client, owner, hire):
    response = owner_client.post("/account/tokens/", {"name": "HRIS sync", "scope": "write"})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert secret.encode() in response.content
    token = ApiToken.objects.get(user=owner)
    assert (token.name, token.scope, token.hash) == ("HRIS sync", "write", ApiToken.hash_of(secret))
    again = owner_client.get("/account/")
    assert secret.encode() not in again.content
    assert token.prefix.encode() in again.content
    assert owner_client.get("/api/v1/hires/", **bearer(secret)).status_code == 200


def test_it_refuses_a_token_without_a_name(owner_client, owner):
    response = owner_client.post("/account/tokens/", {"name": "", "scope": "read"})
    assert response.status_code == 200
    assert response.context["token_form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_it_refuses_an_unknown_scope(owner_client, owner):
    response = owner_client.post("/account/tokens/", {"name": "x", "scope": "admin"})
    assert response.context["token_form"].errors["scope"]
    assert not ApiToken.objects.exists()


def test_it_revokes_a_token_from_the_profile_page(owner_client, owner, hire):
    token, secret = services.api_token_create(actor=owner, user=owner, name="old")
    response = owner_client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert owner_client.get("/api/v1/hires/", **bearer(secret)).status_code == 401
    assert b"Revoked" in owner_client.get("/account/").content


def test_it_answers_404_when_revoking_someone_elses_token(client, people_ops, owner):
    token, _ = services.api_token_create(actor=owner, user=owner, name="theirs")
    client.force_login(people_ops)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


# --- the admin -----------------------------------------------------------------------------------


def test_it_lets_people_ops_see_and_revoke_tokens_in_the_admin_without_the_secret(
    client, people_ops, owner
):
    from django.contrib.auth.models import Group

    token, secret = services.api_token_create(actor=owner, user=owner, name="leaked")
    people_ops.groups.add(Group.objects.get(name="People ops"))
    client.force_login(people_ops)
    page = client.get("/admin/onboarding/apitoken/")
    assert page.status_code == 200
    assert b"leaked" in page.content and token.prefix.encode() in page.content
    assert secret.encode() not in page.content and token.hash.encode() not in page.content
    response = client.post(
        "/admin/onboarding/apitoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_shows_a_manager_only_their_own_tokens_in_the_admin(client, owner, outsider):
    services.api_token_create(actor=outsider, user=outsider, name="not-yours")
    services.api_token_create(actor=owner, user=owner, name="mine")
    from onboarding.models import ApiToken as Token

    assert list(Token.objects.visible_to(owner).values_list("name", flat=True)) == ["mine"]
