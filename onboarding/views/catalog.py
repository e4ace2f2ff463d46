"""Catalog pages: courses, certifications, role profiles, plan templates, guidance.

Everyone signed in reads. Creating and editing needs the model's add or change
permission (403 otherwise). The ModelForms validate (their full_clean turns
database constraints into form errors) and services.catalog_entry_save writes,
refusing a save made from an outdated page. Nothing is deleted here: rows are
deactivated through their `active` field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Model, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from .. import services
from ..filters import SEARCH_MAX_LENGTH
from ..forms.catalog import (
    CertificationForm,
    CompetencyForm,
    CourseForm,
    GuidanceForm,
    PlanTemplateForm,
    PlanTemplateItemFormSet,
    RoleExpectationFormSet,
    RoleProfileForm,
)
from ..models import (
    Certification,
    Competency,
    Course,
    Guidance,
    PlanGuidance,
    PlanTemplate,
    RoleProfile,
    User,
)
from ..rules import can_view_all
from ..staleness import stale_message

PAGE_SIZE = 25


@dataclass(frozen=True)
class Kind:
    """One kind of catalog entry and how its pages list, search and show it."""

    model: type[Model]
    form_class: type[ModelForm]
    name: str  # URL name prefix and template name: "course" -> course_list.html
    plural: str
    search_fields: tuple[str, ...]
    list_queryset: Callable[[], QuerySet]
    # (entry, user) -> extra context of the detail page
    detail_context: Callable[[Model, User], dict] = field(default=lambda obj, user: {})
    # Rows edited on the same page (template items, expected levels), if any.
    formset_class: type[BaseInlineFormSet] | None = None
    formset_prefix: str = ""

    @property
    def form_template(self) -> str:
        if self.formset_class is None:
            return "onboarding/catalog/form.html"
        return f"onboarding/catalog/{self.name}_form.html"

    @property
    def has_active(self) -> bool:
        return any(f.name == "active" for f in self.model._meta.fields)

    @property
    def noun(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def list_url(self) -> str:
        return f"onboarding:{self.name}_list"

    @property
    def create_url(self) -> str:
        return f"onboarding:{self.name}_create"

    @property
    def edit_url(self) -> str:
        return f"onboarding:{self.name}_edit"

    def perm(self, action: str) -> str:
        return f"onboarding.{action}_{self.model._meta.model_name}"


def _course_detail(course: Course, user: User) -> dict:
    return {
        "templates": PlanTemplate.objects.filter(items__course=course).order_by("name").distinct()
    }


def _certification_detail(certification: Certification, user: User) -> dict:
    return {"courses": certification.courses.order_by("provider", "title")}


def _template_detail(template: PlanTemplate, user: User) -> dict:
    return {
        "items": template.items.select_related("course__certification").order_by("position", "id"),
        "suits": template.suits_role_profiles.order_by("name"),
    }


def _roleprofile_detail(profile: RoleProfile, user: User) -> dict:
    return {
        "expectations": profile.competency_expectations.select_related("competency").order_by(
            "competency__position", "competency__name"
        )
    }


def _competency_detail(competency: Competency, user: User) -> dict:
    return {
        "expectations": competency.expectations.select_related("role_profile").order_by(
            "role_profile__name"
        ),
        "courses": competency.courses.order_by("provider", "title"),
    }


def _course_competencies(course: Course, user: User) -> dict:
    return {
        **_course_detail(course, user),
        "competencies": course.competencies.order_by("position"),
    }


def _guidance_detail(guidance: Guidance, user: User) -> dict:
    # The plans this user may see, not the organisation's: a manager's count is theirs.
    return {
        "attached_count": PlanGuidance.objects.visible_to(user).filter(guidance=guidance).count(),
        "sees_every_plan": can_view_all(user),
    }


COURSES = Kind(
    model=Course,
    form_class=CourseForm,
    name="course",
    plural="Courses",
    search_fields=("title", "provider", "description", "certification__name"),
    list_queryset=lambda: Course.objects.select_related("certification"),
    detail_context=_course_competencies,
)
CERTIFICATIONS = Kind(
    model=Certification,
    form_class=CertificationForm,
    name="certification",
    plural="Certifications",
    search_fields=("name", "issuer", "abbreviation"),
    list_queryset=lambda: Certification.objects.annotate(course_count=Count("courses")).order_by(
        "issuer", "name"
    ),
    detail_context=_certification_detail,
)
ROLE_PROFILES = Kind(
    model=RoleProfile,
    form_class=RoleProfileForm,
    name="roleprofile",
    plural="Role profiles",
    search_fields=("name", "expectations"),
    list_queryset=lambda: RoleProfile.objects.all(),
    detail_context=_roleprofile_detail,
    formset_class=RoleExpectationFormSet,
    formset_prefix="expectations",
)
PLAN_TEMPLATES = Kind(
    model=PlanTemplate,
    form_class=PlanTemplateForm,
    name="plantemplate",
    plural="Plan templates",
    search_fields=("name", "description"),
    list_queryset=lambda: PlanTemplate.objects.annotate(item_count=Count("items")).order_by("name"),
    detail_context=_template_detail,
    formset_class=PlanTemplateItemFormSet,
    formset_prefix="items",
)
GUIDANCE = Kind(
    model=Guidance,
    form_class=GuidanceForm,
    name="guidance",
    plural="Guidance library",
    search_fields=("title", "body"),
    list_queryset=lambda: Guidance.objects.all(),
    detail_context=_guidance_detail,
)
COMPETENCIES = Kind(
    model=Competency,
    form_class=CompetencyForm,
    name="competency",
    plural="Competencies",
    search_fields=("name", "slug", "description"),
    list_queryset=lambda: Competency.objects.annotate(course_count=Count("courses")).order_by(
        "position", "name"
    ),
    detail_context=_competency_detail,
)
KINDS = (COURSES, CERTIFICATIONS, ROLE_PROFILES, COMPETENCIES, PLAN_TEMPLATES, GUIDANCE)


def _base_context(request: HttpRequest, kind: Kind) -> dict:
    user = request.user
    return {
        "kind": kind,
        "kinds": KINDS,
        "can_add": user.has_perm(kind.perm("add")),
        "can_change": user.has_perm(kind.perm("change")),
    }


# --- generic read and write views, bound to a Kind in urlpatterns ---------------------------


@login_required
def catalog_list(request: HttpRequest, kind: Kind) -> HttpResponse:
    queryset = kind.list_queryset()
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    if query:
        condition = Q()
        for name in kind.search_fields:
            condition |= Q(**{f"{name}__icontains": query})
        queryset = queryset.filter(condition)
    show_inactive = kind.has_active and request.GET.get("inactive") == "1"
    if kind.has_active and not show_inactive:
        queryset = queryset.filter(active=True)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_base_context(request, kind),
        "page_obj": page,
        "objects": page.object_list,
        "query": query,
        "show_inactive": show_inactive,
    }
    return render(request, f"onboarding/catalog/{kind.name}_list.html", context)


@login_required
def catalog_detail(request: HttpRequest, kind: Kind, pk: int) -> HttpResponse:
    obj = get_object_or_404(kind.model, pk=pk)
    context = {
        **_base_context(request, kind),
        "object": obj,
        **kind.detail_context(obj, request.user),
    }
    return render(request, f"onboarding/catalog/{kind.name}_detail.html", context)


def _save_entry(request: HttpRequest, kind: Kind, obj: Model | None) -> HttpResponse:
    """Show and save an entry's form (and its rows); `obj` is None when creating.

    A save made from a page opened before someone else's save is refused with
    what differs, and the form is re-shown against the version now saved.
    """
    data = request.POST if request.method == "POST" else None
    form, formset = _entry_forms(kind, data, obj)
    status = 200
    if request.method == "POST":
        if form.is_valid() and (formset is None or formset.is_valid()):
            expected = form.cleaned_data["expected_version"]
            try:
                with transaction.atomic():
                    saved = services.catalog_entry_save(
                        actor=request.user, entry=form.save(commit=False), expected_version=expected
                    )
                    form.save_m2m()
                    if formset is not None:
                        formset.instance = saved
                        formset.save()
            except services.StaleObjectError as error:
                messages.error(
                    request, stale_message(error.current, expected, kind.noun, error.changed)
                )
                data = request.POST.copy()
                data["expected_version"] = str(error.current.version)
                form, formset = _entry_forms(kind, data, error.current)
                status = 409
            else:
                verb = "updated" if obj is not None else "added"
                messages.success(request, f"{kind.noun.capitalize()} “{saved}” {verb}.")
                return redirect(saved)
        else:
            messages.error(request, "Nothing was saved: correct the errors below.")
    context = {**_base_context(request, kind), "form": form, "formset": formset, "object": obj}
    return render(request, kind.form_template, context, status=status)


def _entry_forms(kind: Kind, data: QueryDict | None, obj: Model | None) -> tuple:
    form = kind.form_class(data, instance=obj)
    formset = None
    if kind.formset_class is not None:
        formset = kind.formset_class(data, instance=obj or kind.model(), prefix=kind.formset_prefix)
    return form, formset


def _make_write_views(kind: Kind, save: Callable = _save_entry) -> tuple[Callable, Callable]:
    """Create and edit views for `kind`, each behind the model's own permission.

    `save(request, kind, obj)` shows and saves the form; obj is None when creating.
    """

    @login_required
    @permission_required(kind.perm("add"), raise_exception=True)
    @require_http_methods(["GET", "POST"])
    def create(request: HttpRequest) -> HttpResponse:
        return save(request, kind, None)

    @login_required
    @permission_required(kind.perm("change"), raise_exception=True)
    @require_http_methods(["GET", "POST"])
    def edit(request: HttpRequest, pk: int) -> HttpResponse:
        return save(request, kind, get_object_or_404(kind.model, pk=pk))

    create.__name__ = f"{kind.name}_create"
    edit.__name__ = f"{kind.name}_edit"
    return create, edit


def _routes(kind: Kind, segment: str, create: Callable, edit: Callable) -> list:
    return [
        path(f"catalog/{segment}/", catalog_list, {"kind": kind}, name=f"{kind.name}_list"),
        path(f"catalog/{segment}/new/", create, name=f"{kind.name}_create"),
        path(
            f"catalog/{segment}/<int:pk>/",
            catalog_detail,
            {"kind": kind},
            name=f"{kind.name}_detail",
        ),
        path(f"catalog/{segment}/<int:pk>/edit/", edit, name=f"{kind.name}_edit"),
    ]


course_create, course_edit = _make_write_views(COURSES)
certification_create, certification_edit = _make_write_views(CERTIFICATIONS)
roleprofile_create, roleprofile_edit = _make_write_views(ROLE_PROFILES)
competency_create, competency_edit = _make_write_views(COMPETENCIES)
guidance_create, guidance_edit = _make_write_views(GUIDANCE)
plantemplate_create, plantemplate_edit = _make_write_views(PLAN_TEMPLATES)

urlpatterns = [
    *_routes(COURSES, "courses", course_create, course_edit),
    *_routes(CERTIFICATIONS, "certifications", certification_create, certification_edit),
    *_routes(ROLE_PROFILES, "role-profiles", roleprofile_create, roleprofile_edit),
    *_routes(COMPETENCIES, "competencies", competency_create, competency_edit),
    *_routes(PLAN_TEMPLATES, "plan-templates", plantemplate_create, plantemplate_edit),
    *_routes(GUIDANCE, "guidance", guidance_create, guidance_edit),
]
