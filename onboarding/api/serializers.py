"""What the API reads and writes. Serializers validate the shape of a request; the
write itself is a call to services.py (see views.py), never `serializer.save()`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    Assignment,
    Certification,
    CheckIn,
    Competency,
    CompetencyRating,
    Course,
    Guidance,
    HeldCertification,
    NewHire,
    PlanGuidance,
    PlanTemplate,
    PlanTemplateItem,
    RoleProfile,
    TrainingPlan,
    User,
)
from ..rules import LEVELS, CheckInState, manager_candidates


def _actor(serializer: serializers.Serializer) -> User:
    return serializer.context["request"].user


class ManagerField(serializers.SlugRelatedField):
    """A hiring manager or plan owner, by username: those the caller may choose."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", **kwargs)

    def get_queryset(self):
        return manager_candidates(_actor(self.parent), self._current())

    def _current(self) -> User | None:
        instance = getattr(self.parent, "instance", None)
        return getattr(instance, self.source, None) if instance is not None else None


class VisibleField(serializers.PrimaryKeyRelatedField):
    """A reference to a hire, plan or assignment the caller can see (others do not exist)."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.visible_to(_actor(self.parent))


class VersionedSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(
        read_only=True, help_text="Send it back as If-Match when you change the object."
    )


# --- hires and their plans ---------------------------------------------------------------------


class HireSerializer(VersionedSerializer):
    hiring_manager = ManagerField(
        required=False,
        help_text="Username. Defaults to you; only people-ops may name someone else.",
    )
    role_profile = serializers.PrimaryKeyRelatedField(
        queryset=RoleProfile.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = NewHire
        fields = [
            "id",
            "full_name",
            "email",
            "title",
            "role_profile",
            "hiring_manager",
            "start_date",
            "new_to_product_management",
            "previous_role",
            "notes",
            "archived_at",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["archived_at", "created_at", "updated_at"]
        # Uniqueness is the model's rule (any letter case), checked by the service.
        extra_kwargs = {"email": {"validators": []}}


class PlanSerializer(VersionedSerializer):
    hire = VisibleField(NewHire)
    owner = ManagerField(required=False, help_text="Username. Defaults to the hire's manager.")
    template = serializers.PrimaryKeyRelatedField(
        queryset=PlanTemplate.objects.filter(active=True),
        allow_null=True,
        required=False,
        help_text="On create: add the template's courses, due from the hire's start date.",
    )

    class Meta:
        model = TrainingPlan
        fields = [
            "id",
            "hire",
            "title",
            "owner",
            "template",
            "target_date",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"title": {"required": False}}


class AssignmentSerializer(VersionedSerializer):
    plan = VisibleField(TrainingPlan)
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.filter(active=True))
    reason = serializers.CharField(
        write_only=True,
        required=False,
        max_length=1000,
        help_text="Why the course is waived (needed with status waived).",
    )
    certification_expires_on = serializers.DateField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="With certification_earned_on: when the certification expires.",
    )

    class Meta:
        model = Assignment
        fields = [
            "id",
            "plan",
            "course",
            "due_date",
            "scheduled_for",
            "status",
            "completed_on",
            "tuition_cost",
            "paid_by",
            "certification_earned_on",
            "certification_expires_on",
            "reason",
            "notes",
            "position",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # One course once per plan: the service says so in words.
        validators = []


class PlanGuidanceSerializer(VersionedSerializer):
    title = serializers.CharField(source="guidance.title", read_only=True)
    discussed = serializers.BooleanField(
        source="is_discussed", required=False, help_text="Discussed with the hire."
    )
    acknowledged_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = PlanGuidance
        fields = [
            "id",
            "plan",
            "guidance",
            "title",
            "body",
            "manager_note",
            "discussed",
            "acknowledged_at",
            "acknowledged_by",
            "attached_at",
            "version",
        ]
        read_only_fields = ["plan", "guidance", "body", "acknowledged_at", "attached_at"]


class HeldCertificationSerializer(VersionedSerializer):
    hire = VisibleField(NewHire)
    certification = serializers.PrimaryKeyRelatedField(queryset=Certification.objects.all())

    class Meta:
        model = HeldCertification
        fields = ["id", "hire", "certification", "earned_on", "expires_on", "assignment", "version"]
        read_only_fields = ["assignment"]
        validators = []


# --- ramp check-ins ----------------------------------------------------------------------------


class RatingSerializer(serializers.ModelSerializer):
    competency = serializers.PrimaryKeyRelatedField(queryset=Competency.objects.all())
    manager_level = serializers.IntegerField(
        min_value=LEVELS[0], max_value=LEVELS[-1], allow_null=True, required=False
    )
    note = serializers.CharField(allow_blank=True, required=False, max_length=10_000)

    class Meta:
        model = CompetencyRating
        fields = ["competency", "manager_level", "self_level", "note"]
        read_only_fields = ["self_level"]


class CheckInSerializer(VersionedSerializer):
    ratings = RatingSerializer(many=True, required=False)
    completed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    state = serializers.SerializerMethodField()
    complete = serializers.BooleanField(
        write_only=True, required=False, help_text="Complete it (every competency rated)."
    )
    completed_on = serializers.DateField(
        write_only=True, required=False, help_text="With complete: the day it took place."
    )

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "hire",
            "kind",
            "due_date",
            "state",
            "completed_at",
            "completed_by",
            "summary",
            "ratings",
            "complete",
            "completed_on",
            "version",
        ]
        read_only_fields = ["hire", "kind", "due_date", "completed_at"]

    @extend_schema_field(serializers.ChoiceField(choices=CheckInState.choices))
    def get_state(self, check_in: CheckIn) -> str:
        return check_in.state()


# --- the catalog (read only) -------------------------------------------------------------------


class CourseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = [
            "id",
            "title",
            "provider",
            "delivery",
            "duration_hours",
            "tuition",
            "currency",
            "certification",
            "url",
            "description",
            "competencies",
            "active",
            "version",
        ]


class CertificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certification
        fields = ["id", "name", "issuer", "abbreviation", "framework_bound", "notes", "version"]


class RoleProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoleProfile
        fields = ["id", "name", "archetype", "expectations", "active", "version"]


class TemplateItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanTemplateItem
        fields = ["course", "due_offset_days", "position"]


class PlanTemplateSerializer(serializers.ModelSerializer):
    items = TemplateItemSerializer(many=True, read_only=True)

    class Meta:
        model = PlanTemplate
        fields = [
            "id",
            "name",
            "description",
            "active",
            "suits_role_profiles",
            "items",
            "version",
        ]


class GuidanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Guidance
        fields = ["id", "slug", "title", "body", "rule", "position", "active", "updated_at"]


class CompetencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Competency
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "level_1",
            "level_2",
            "level_3",
            "level_4",
            "position",
            "active",
            "version",
        ]
