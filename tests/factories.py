"""factory_boy factories for the personas and the domain."""

import datetime

import factory
from django.contrib.auth.models import Permission
from django.utils import timezone

from onboarding import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ManagerFactory(UserFactory):
    """A hiring manager: staff (may use the admin), sees only their own hires."""

    username = factory.Sequence(lambda n: f"manager{n}")
    is_staff = True

    @factory.post_generation
    def manager_permissions(obj, create, extracted, **kwargs):
        if create:
            obj.user_permissions.add(*manager_permissions())


class PeopleOpsFactory(UserFactory):
    """People-ops: sees and manages every hire."""

    username = factory.Sequence(lambda n: f"peopleops{n}")
    is_staff = True

    @factory.post_generation
    def people_ops_permissions(obj, create, extracted, **kwargs):
        if create:
            obj.user_permissions.add(
                *manager_permissions(), Permission.objects.get(codename="view_all_hires")
            )


def manager_permissions() -> list[Permission]:
    """What a hiring manager may do in the admin: their hires, plans and assignments."""
    codenames = []
    for model in (
        "newhire",
        "trainingplan",
        "assignment",
        "heldcertification",
        "planguidance",
        "checkin",
        "competencyrating",
    ):
        codenames += [f"view_{model}", f"add_{model}", f"change_{model}"]
    for model in (
        "course",
        "certification",
        "roleprofile",
        "plantemplate",
        "guidance",
        "competency",
        "roleexpectation",
    ):
        codenames.append(f"view_{model}")
    # The hire's own view: invite them, read and review what they send.
    codenames += [
        "add_hireinvitation",
        "change_hireinvitation",
        "view_hireinvitation",
        "view_evidence",
        "change_evidence",
        "view_coursefeedback",
    ]
    return list(
        Permission.objects.filter(content_type__app_label="onboarding", codename__in=codenames)
    )


class RoleProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RoleProfile
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Role profile {n}")
    archetype = models.RoleProfile.Archetype.GENERALIST
    expectations = "Own the roadmap for one product area."


class NewHireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.NewHire

    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"hire{n}@example.com")
    title = "Product Manager"
    role_profile = factory.SubFactory(RoleProfileFactory)
    hiring_manager = factory.SubFactory(ManagerFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10))


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Certification

    name = factory.Sequence(lambda n: f"Certification {n}")
    issuer = "Test Institute"
    abbreviation = factory.Sequence(lambda n: f"TC{n}")


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Course

    title = factory.Sequence(lambda n: f"Course {n}")
    provider = "Test Provider"
    delivery = models.Course.Delivery.LIVE_ONLINE
    tuition = None


class PlanTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PlanTemplate

    name = factory.Sequence(lambda n: f"Template {n}")


class PlanTemplateItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PlanTemplateItem

    template = factory.SubFactory(PlanTemplateFactory)
    course = factory.SubFactory(CourseFactory)
    due_offset_days = 30


class TrainingPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TrainingPlan

    hire = factory.SubFactory(NewHireFactory)
    title = "Training plan"
    owner = factory.LazyAttribute(lambda p: p.hire.hiring_manager)


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Assignment

    plan = factory.SubFactory(TrainingPlanFactory)
    course = factory.SubFactory(CourseFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    status = models.Assignment.Status.ASSIGNED


class HeldCertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.HeldCertification

    hire = factory.SubFactory(NewHireFactory)
    certification = factory.SubFactory(CertificationFactory)
    earned_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=100))


class GuidanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Guidance

    slug = factory.Sequence(lambda n: f"guidance-{n}")
    title = factory.Sequence(lambda n: f"Guidance {n}")
    body = "Some guidance."
    rule = models.Guidance.Rule.MANUAL
