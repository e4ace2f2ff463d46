"""API endpoints: the scoped querysets and FilterSets of the pages, the writes of services.py.

Every object carries `version`; a GET of one object answers it as the ETag, and a
change (PATCH, DELETE) must send it back as If-Match. The service locks the row and
refuses a stale version, which answers 412 with what changed since.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from decimal import Decimal

from django.db.models import Model, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..models import (
    Assignment,
    Certification,
    CheckIn,
    Competency,
    Course,
    Guidance,
    HeldCertification,
    NewHire,
    PlanGuidance,
    PlanTemplate,
    RoleProfile,
    TrainingPlan,
)
from . import filters, serializers
from .errors import PreconditionFailed, PreconditionRequired

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of your last GET of the object, e.g. "3"; * overwrites any version.',
)
ETAG_HEADER = {"ETag": {"description": "The object's version, for If-Match."}}


def etag(obj: Model) -> str:
    return f'"{obj.version}"'


def expected_version(request: Request) -> int | None:
    """The version the client read, from If-Match (428 without it; None for `*`)."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        raise PreconditionRequired()
    if raw == "*":
        return None
    tag = raw.split(",")[0].strip().removeprefix("W/").strip('"')
    # A tag this server never made cannot match: the service then answers 412.
    return int(tag) if tag.isdigit() and len(tag) < 10 else -1


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def changes_since(current: Model, version: int | None, fallback: dict) -> dict:
    """What differs between the version the client read and the saved row.

    Models with a change history answer exactly; others fall back to the fields in
    which the request differs from the saved row.
    """
    history = getattr(current._meta.model, "history", None)
    then = None
    if history is not None and version is not None and version > 0:
        then = history.filter(id=current.pk, version=version).order_by("-history_id").first()
    if then is None:
        return {name: {"yours": _plain(a), "saved": _plain(b)} for name, (a, b) in fallback.items()}
    return {
        field.name: {
            "yours": _plain(getattr(then, field.attname)),
            "saved": _plain(getattr(current, field.attname)),
        }
        for field in current._meta.concrete_fields
        if field.editable
        and not field.primary_key
        and hasattr(then, field.attname)
        and getattr(then, field.attname) != getattr(current, field.attname)
    }


@contextmanager
def refusing_stale(version: int | None):
    try:
        yield
    except services.StaleObjectError as error:
        raise PreconditionFailed(
            changes_since(error.current, version, error.changed), etag(error.current)
        ) from None


class ApiViewSet(viewsets.GenericViewSet):
    filter_backends = [filters.ScopedFilterBackend]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    model: type[Model]

    def scoped(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            # drf-spectacular reads the model off the view, with no user to scope to.
            return self.model.objects.none()
        return self.scoped()

    def answer(self, obj: Model, code: int = status.HTTP_200_OK) -> Response:
        # Read back through the scoped queryset: the answer shows what a GET would.
        fresh = self.get_queryset().get(pk=obj.pk)
        response = Response(self.get_serializer(fresh).data, status=code)
        response["ETag"] = etag(fresh)
        return response

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        obj = self.get_object()
        response = Response(self.get_serializer(obj).data)
        response["ETag"] = etag(obj)
        return response

    def validated(self, instance: Model | None = None) -> dict:
        serializer = self.get_serializer(instance, data=self.request.data, partial=bool(instance))
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --- hires ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Hires you can see (active ones unless archived=all)"),
    retrieve=extend_schema(summary="One hire", responses={200: serializers.HireSerializer}),
    create=extend_schema(summary="Record a new hire"),
    partial_update=extend_schema(summary="Change a hire", parameters=[IF_MATCH]),
)
class HireViewSet(mixins.ListModelMixin, ApiViewSet):
    model = NewHire
    serializer_class = serializers.HireSerializer
    filterset_class = filters.HireFilter

    def scoped(self) -> QuerySet:
        return NewHire.objects.visible_to(self.request.user).select_related("hiring_manager")

    def create(self, request: Request) -> Response:
        data = self.validated()
        data.setdefault("hiring_manager", request.user)
        hire = services.hire_create(actor=request.user, **data)
        return self.answer(hire, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        hire = self.get_object()
        version = expected_version(request)
        data = self.validated(hire)
        with refusing_stale(version):
            services.hire_update(actor=request.user, hire=hire, expected_version=version, **data)
        return self.answer(hire)

    @extend_schema(summary="Archive a hire (their own account stops working)", request=None)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str) -> Response:
        hire = services.hire_archive(actor=request.user, hire=self.get_object())
        return self.answer(hire)

    @extend_schema(summary="Bring an archived hire back", request=None)
    @action(detail=True, methods=["post"])
    def unarchive(self, request: Request, pk: str) -> Response:
        hire = services.hire_unarchive(actor=request.user, hire=self.get_object())
        return self.answer(hire)


# --- plans ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Training plans of hires you can see"),
    retrieve=extend_schema(summary="One plan"),
    create=extend_schema(summary="Make a plan, blank or from a template"),
    partial_update=extend_schema(summary="Change a plan", parameters=[IF_MATCH]),
)
class PlanViewSet(mixins.ListModelMixin, ApiViewSet):
    model = TrainingPlan
    serializer_class = serializers.PlanSerializer
    filterset_class = filters.PlanFilter

    def scoped(self) -> QuerySet:
        return TrainingPlan.objects.visible_to(self.request.user).select_related("owner")

    def create(self, request: Request) -> Response:
        data = self.validated()
        plan = services.plan_create(
            actor=request.user,
            hire=data["hire"],
            title=data.get("title", ""),
            template=data.get("template"),
            owner=data.get("owner"),
            target_date=data.get("target_date"),
        )
        return self.answer(plan, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        plan = self.get_object()
        version = expected_version(request)
        data = self.validated(plan)
        changes = {name: data[name] for name in services.PLAN_FIELDS if name in data}
        with refusing_stale(version):
            services.plan_update(actor=request.user, plan=plan, expected_version=version, **changes)
        return self.answer(plan)


@extend_schema_view(
    list=extend_schema(summary="Courses in plans you can see (the assignments list's filters)"),
    retrieve=extend_schema(summary="One assignment"),
    create=extend_schema(summary="Add a course to a plan"),
    partial_update=extend_schema(
        summary="Change an assignment or its status (completed needs completed_on, "
        "waived a reason)",
        parameters=[IF_MATCH],
    ),
    destroy=extend_schema(summary="Take a course out of a plan", parameters=[IF_MATCH]),
)
class AssignmentViewSet(mixins.ListModelMixin, ApiViewSet):
    model = Assignment
    serializer_class = serializers.AssignmentSerializer
    filterset_class = filters.AssignmentFilter

    def scoped(self) -> QuerySet:
        return Assignment.objects.visible_to(self.request.user)

    def create(self, request: Request) -> Response:
        data = self.validated()
        fields = ("due_date", "scheduled_for", "tuition_cost", "paid_by", "notes", "position")
        assignment = services.assignment_add(
            actor=request.user,
            plan=data["plan"],
            course=data["course"],
            **{name: data[name] for name in fields if name in data},
        )
        return self.answer(assignment, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        assignment = self.get_object()
        version = expected_version(request)
        data = self.validated(assignment)
        data.pop("plan", None)
        data.pop("course", None)
        with refusing_stale(version):
            services.assignment_change(
                actor=request.user, assignment=assignment, expected_version=version, **data
            )
        return self.answer(assignment)

    def destroy(self, request: Request, pk: str) -> Response:
        assignment = self.get_object()
        version = expected_version(request)
        with refusing_stale(version):
            services.assignment_remove(
                actor=request.user, assignment=assignment, expected_version=version
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Guidance attached to plans you can see"),
    retrieve=extend_schema(summary="One plan's guidance"),
    partial_update=extend_schema(
        summary="Write the manager's note or mark it discussed", parameters=[IF_MATCH]
    ),
)
class PlanGuidanceViewSet(mixins.ListModelMixin, ApiViewSet):
    model = PlanGuidance
    serializer_class = serializers.PlanGuidanceSerializer
    filterset_class = filters.PlanGuidanceFilter

    def scoped(self) -> QuerySet:
        return PlanGuidance.objects.visible_to(self.request.user).select_related(
            "guidance", "acknowledged_by"
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        attached = self.get_object()
        version = expected_version(request)
        data = self.validated(attached)
        with refusing_stale(version):
            services.plan_guidance_update(
                actor=request.user,
                plan_guidance=attached,
                manager_note=data.get("manager_note"),
                discussed=data.get("is_discussed"),
                expected_version=version,
            )
        return self.answer(attached)


@extend_schema_view(
    list=extend_schema(summary="Certifications held by hires you can see"),
    retrieve=extend_schema(summary="One held certification"),
    create=extend_schema(summary="Record a certification a hire holds"),
    partial_update=extend_schema(summary="Change a held certification", parameters=[IF_MATCH]),
    destroy=extend_schema(summary="Remove a held certification", parameters=[IF_MATCH]),
)
class HeldCertificationViewSet(mixins.ListModelMixin, ApiViewSet):
    model = HeldCertification
    serializer_class = serializers.HeldCertificationSerializer
    filterset_class = filters.HeldCertificationFilter

    def scoped(self) -> QuerySet:
        return HeldCertification.objects.visible_to(self.request.user)

    def create(self, request: Request) -> Response:
        held = services.held_certification_create(actor=request.user, **self.validated())
        return self.answer(held, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        held = self.get_object()
        version = expected_version(request)
        data = self.validated(held)
        data.pop("hire", None)
        with refusing_stale(version):
            services.held_certification_update(
                actor=request.user, held=held, expected_version=version, **data
            )
        return self.answer(held)

    def destroy(self, request: Request, pk: str) -> Response:
        held = self.get_object()
        version = expected_version(request)
        with refusing_stale(version):
            services.held_certification_remove(
                actor=request.user, held=held, expected_version=version
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Ramp check-ins of hires you can see, with their ratings"),
    retrieve=extend_schema(summary="One check-in"),
    partial_update=extend_schema(
        summary="Rate competencies, write the summary, complete the check-in",
        parameters=[IF_MATCH],
    ),
)
class CheckInViewSet(mixins.ListModelMixin, ApiViewSet):
    model = CheckIn
    serializer_class = serializers.CheckInSerializer
    filterset_class = filters.CheckInFilter

    def scoped(self) -> QuerySet:
        return (
            CheckIn.objects.visible_to(self.request.user)
            .select_related("completed_by")
            .prefetch_related(Prefetch("ratings", to_attr=None))
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        check_in = self.get_object()
        version = expected_version(request)
        data = self.validated(check_in)
        # Ratings not in the request keep their saved level and note.
        ratings = {
            rating.competency_id: (rating.manager_level, rating.note)
            for rating in check_in.ratings.all()
        }
        for rating in data.get("ratings", []):
            saved = ratings.get(rating["competency"].pk, (None, ""))
            ratings[rating["competency"].pk] = (
                rating.get("manager_level", saved[0]),
                rating.get("note", saved[1]),
            )
        with refusing_stale(version):
            services.check_in_record(
                actor=request.user,
                check_in=check_in,
                ratings=ratings,
                summary=data.get("summary", check_in.summary),
                complete=data.get("complete", False),
                completed_on=data.get("completed_on"),
                expected_version=version,
            )
        return self.answer(check_in)


# --- the catalog: everyone reads it; it is edited in the dashboard and the admin -------------


class CatalogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filter_backends = [filters.ScopedFilterBackend]


@extend_schema_view(list=extend_schema(summary="Courses in the catalog"))
class CourseViewSet(CatalogViewSet):
    serializer_class = serializers.CourseSerializer
    filterset_class = filters.CourseFilter
    queryset = Course.objects.prefetch_related("competencies")


@extend_schema_view(list=extend_schema(summary="Certifications in the catalog"))
class CertificationViewSet(CatalogViewSet):
    serializer_class = serializers.CertificationSerializer
    queryset = Certification.objects.all()


@extend_schema_view(list=extend_schema(summary="The organisation's role profiles"))
class RoleProfileViewSet(CatalogViewSet):
    serializer_class = serializers.RoleProfileSerializer
    queryset = RoleProfile.objects.all()


@extend_schema_view(list=extend_schema(summary="Plan templates with their courses"))
class PlanTemplateViewSet(CatalogViewSet):
    serializer_class = serializers.PlanTemplateSerializer
    queryset = PlanTemplate.objects.prefetch_related("items", "suits_role_profiles")


@extend_schema_view(list=extend_schema(summary='The guidance library ("mileage may vary")'))
class GuidanceViewSet(CatalogViewSet):
    serializer_class = serializers.GuidanceSerializer
    queryset = Guidance.objects.all()


@extend_schema_view(list=extend_schema(summary="The competency framework of ramp check-ins"))
class CompetencyViewSet(CatalogViewSet):
    serializer_class = serializers.CompetencySerializer
    queryset = Competency.objects.all()
