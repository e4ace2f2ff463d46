"""Demo users and data for `manage.py seed_demo`.

Everything is keyed on natural keys (usernames, hire emails) and a hire that
already exists is left alone, so running the seed again changes nothing. Dates
are fixed offsets from today, so the same states (not started, on track, at
risk, overdue, complete, archived) show up whatever day it runs. All writes to
hires, plans and assignments go through `services`, with the hire's manager as
the actor, so the change history names a person.
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from . import demo_ramp, services
from .catalog import MILEAGE_SLUG
from .models import (
    Assignment,
    Certification,
    Course,
    HeldCertification,
    HireInvitation,
    NewHire,
    PlanTemplate,
    RoleProfile,
    User,
)

EMAIL_DOMAIN = "example.com"

# --- users -----------------------------------------------------------------------------------

# The role groups a data migration creates (0014_role_groups).
GROUPS = {"manager": "Hiring managers", "people_ops": "People ops"}


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str  # "manager", "people_ops" or "superuser"

    @property
    def label(self) -> str:
        return {
            "manager": "hiring manager",
            "people_ops": "people-ops (sees every hire, edits the catalog)",
            "superuser": "superuser (admin site)",
        }[self.role]


USERS = [
    DemoUser("maria", "Maria", "Santos", "manager"),
    DemoUser("devon", "Devon", "Brooks", "manager"),
    DemoUser("pat", "Pat", "Morgan", "people_ops"),
    DemoUser("admin", "Ada", "Admin", "superuser"),
]

# --- hires -----------------------------------------------------------------------------------

PROFILES = {
    "owner": "Business owner (P&L)",
    "tech": "Technical product manager (APM-style)",
    "marketing": "Marketing-focused product manager",
    "generalist": "Generalist product manager",
}
TEMPLATES = {
    "new": "New to product management",
    "experienced": "Experienced product manager",
    "owner": "Business owner",
    "safe": "SAFe organisation",
}
CERTIFICATIONS = {
    "PMC": "Pragmatic Institute Product Management Certification",
    "CPM": "Certified Product Manager",
    "POPM": "SAFe Product Owner/Product Manager",
    "APM": "SAFe Agile Product Manager",
}
# Course key -> (provider, title). Tuition below is what this organisation paid for
# a seat (demo figures on assignments only; the shipped catalog carries no prices).
COURSES = {
    "foundations": ("Pragmatic Institute", "Foundations"),
    "focus": ("Pragmatic Institute", "Focus"),
    "market": ("Pragmatic Institute", "Market"),
    "popm": ("Scaled Agile", "SAFe Product Owner/Product Manager"),
    "apm": ("Scaled Agile", "SAFe Agile Product Management"),
    "cpm_prep": ("AIPMM", "Certified Product Manager exam preparation"),
    "blackblot": ("Blackblot", "Product management professional training"),
    "discovery": ("In-house", "Customer discovery interviews"),
    "engineering": ("In-house", "Working with our engineering teams"),
}
TUITION = {
    "Foundations": Decimal("1300"),
    "Focus": Decimal("1300"),
    "Market": Decimal("1300"),
    "SAFe Product Owner/Product Manager": Decimal("1000"),
    "SAFe Agile Product Management": Decimal("1200"),
}

# Example figures for the demo catalog, so its tuition and hours views have something to
# show: (provider, title) -> (list price, hours). Made up for the demo, not the
# providers' prices; each course so priced says so in its description. The shipped
# catalog (catalog.py) carries no prices: an organisation enters what it pays.
EXAMPLE_COURSE_FIGURES: dict[tuple[str, str], tuple[Decimal | None, Decimal]] = {
    ("Pragmatic Institute", "Foundations"): (Decimal("1300"), Decimal("16")),
    ("Pragmatic Institute", "Focus"): (Decimal("1300"), Decimal("16")),
    ("Pragmatic Institute", "Build"): (Decimal("1300"), Decimal("16")),
    ("Pragmatic Institute", "Market"): (Decimal("1300"), Decimal("16")),
    ("Pragmatic Institute", "Launch"): (Decimal("1300"), Decimal("16")),
    ("AIPMM", "Certified Product Manager exam preparation"): (Decimal("600"), Decimal("20")),
    ("Blackblot", "Product management professional training"): (Decimal("900"), Decimal("24")),
    ("Scaled Agile", "SAFe Product Owner/Product Manager"): (Decimal("1000"), Decimal("16")),
    ("Scaled Agile", "SAFe Agile Product Management"): (Decimal("1200"), Decimal("24")),
    # In-house courses are free already; only their hours are examples.
    ("In-house", "How we build products here"): (None, Decimal("4")),
    ("In-house", "Working with our engineering teams"): (None, Decimal("3")),
    ("In-house", "Customer discovery interviews"): (None, Decimal("2")),
    ("In-house", "Reading our P&L"): (None, Decimal("2")),
}
EXAMPLE_FIGURES_NOTE = (
    "Example figures (demo data): the tuition and hours of this course are made up "
    "for the demo, not the provider's prices."
)

NOT_STARTED, ON_TRACK, AT_RISK, OVERDUE, COMPLETE = (
    "not_started",
    "on_track",
    "at_risk",
    "overdue",
    "complete",
)


@dataclass(frozen=True)
class ExtraCourse:
    """A course added to the plan after it was created from the template."""

    course: str  # key of COURSES
    due_after_start: int
    tuition: Decimal | None = None
    paid_by: str = Assignment.PaidBy.EMPLOYER


@dataclass(frozen=True)
class DemoHire:
    """One demo hire; `start` and every other date are days relative to today."""

    full_name: str
    manager: str
    profile: str
    start: int
    scenario: str
    template: str | None
    new_to_pm: bool = False
    previous_role: str = ""
    paid_by: str = Assignment.PaidBy.EMPLOYER
    tuition_known: bool = True
    extra: ExtraCourse | None = None
    waive: tuple[str, str] | None = None  # (course key, reason)
    # Completing this course earns its certification, valid for N days (None: no expiry).
    earns: tuple[str, int | None] | None = None
    # Certifications held before joining: (key, earned days ago, expires in N days or None).
    held: tuple[tuple[str, int, int | None], ...] = ()
    # (guidance slug, manager's note, discussed with the hire?)
    notes: tuple[tuple[str, str, bool], ...] = ()
    archived: bool = False
    extra_notes: str = ""

    @property
    def email(self) -> str:
        ascii_name = (
            unicodedata.normalize("NFKD", self.full_name).encode("ascii", "ignore").decode()
        )
        local = ".".join("".join(c for c in part if c.isalnum()) for part in ascii_name.split())
        return f"{local.lower()}@{EMAIL_DOMAIN}"


MILEAGE_NOTES = {
    "owner": "Here the role owns the numbers: the course frameworks are a start, our P&L "
    "review is where the job really happens.",
    "tech": "Our teams ship weekly and the PM writes the backlog: take the course ideas, "
    "but follow how the platform team plans.",
    "marketing": "Launch work here is shared with product marketing; we agreed which parts "
    "are yours.",
    "generalist": "We agreed on the three things that matter most this year; the rest can wait.",
}

HIRES = [
    # --- Maria's hires ---
    DemoHire(
        "Amara Okafor",
        "maria",
        "generalist",
        5,
        NOT_STARTED,
        None,
        new_to_pm=True,
        previous_role="Customer success lead",
    ),
    DemoHire(
        "Ben Castillo",
        "maria",
        "tech",
        21,
        NOT_STARTED,
        "experienced",
        previous_role="Product manager at a logistics start-up",
        held=(("PMC", 900, None),),
    ),
    DemoHire(
        "Chloé Martin",
        "maria",
        "marketing",
        9,
        NOT_STARTED,
        "new",
        new_to_pm=True,
        previous_role="Product marketing specialist",
        tuition_known=False,
    ),
    DemoHire(
        "Daniel Kim",
        "maria",
        "owner",
        -20,
        ON_TRACK,
        "owner",
        previous_role="Head of product at a regional bank",
        notes=((MILEAGE_SLUG, MILEAGE_NOTES["owner"], True),),
    ),
    DemoHire(
        "Elena Rossi",
        "maria",
        "tech",
        -40,
        AT_RISK,
        "new",
        new_to_pm=True,
        previous_role="Software engineer",
        notes=(
            (MILEAGE_SLUG, MILEAGE_NOTES["tech"], True),
            (
                "new-to-product-management",
                "Pair each course with a real backlog item from the payments team.",
                False,
            ),
        ),
    ),
    DemoHire(
        "Farid Haddad",
        "maria",
        "tech",
        -50,
        OVERDUE,
        "safe",
        previous_role="Senior product manager at a SaaS company",
        held=(("APM", 300, 65),),
    ),
    DemoHire(
        "Grace Liu",
        "maria",
        "generalist",
        -120,
        COMPLETE,
        "new",
        new_to_pm=True,
        previous_role="UX designer",
        earns=("focus", None),
        notes=((MILEAGE_SLUG, MILEAGE_NOTES["generalist"], True),),
    ),
    DemoHire(
        "Hugo Lambert",
        "maria",
        "marketing",
        -75,
        COMPLETE,
        "experienced",
        previous_role="Marketing manager",
        extra=ExtraCourse("cpm_prep", 60, Decimal("600"), Assignment.PaidBy.HIRE),
        waive=("discovery", "Ran weekly customer interviews in his previous role."),
        earns=("cpm_prep", None),
    ),
    DemoHire(
        "Inês Duarte",
        "maria",
        "owner",
        -45,
        OVERDUE,
        "owner",
        previous_role="Business unit manager",
    ),
    DemoHire(
        "Jonas Weber",
        "maria",
        "tech",
        -330,
        COMPLETE,
        "safe",
        previous_role="Engineering manager",
        earns=("popm", 365),
    ),
    DemoHire(
        "Keiko Tanaka",
        "maria",
        "generalist",
        -10,
        ON_TRACK,
        "new",
        new_to_pm=True,
        previous_role="Data analyst",
        paid_by=Assignment.PaidBy.HIRE,
        notes=((MILEAGE_SLUG, MILEAGE_NOTES["generalist"], True),),
    ),
    DemoHire(
        "Liam O'Brien",
        "maria",
        "marketing",
        -200,
        COMPLETE,
        "experienced",
        previous_role="Product marketing manager",
        archived=True,
        extra_notes="Moved to the product marketing team after onboarding.",
    ),
    DemoHire(
        "Maya Patel",
        "maria",
        "generalist",
        12,
        NOT_STARTED,
        None,
        previous_role="Product owner",
    ),
    DemoHire(
        "Nikolai Petrov",
        "maria",
        "tech",
        -35,
        AT_RISK,
        "safe",
        previous_role="Product owner in a SAFe release train",
        extra=ExtraCourse("apm", 90, TUITION["SAFe Agile Product Management"]),
        held=(("POPM", 420, -55),),
    ),
    DemoHire(
        "Olivia Brown",
        "maria",
        "owner",
        -55,
        ON_TRACK,
        "owner",
        previous_role="Sales director",
    ),
    # --- Devon's hires ---
    DemoHire(
        "Priya Sharma",
        "devon",
        "tech",
        -90,
        OVERDUE,
        "new",
        new_to_pm=True,
        previous_role="QA engineer",
        notes=((MILEAGE_SLUG, MILEAGE_NOTES["tech"], True),),
    ),
    DemoHire(
        "Quentin Moreau",
        "devon",
        "generalist",
        30,
        NOT_STARTED,
        "experienced",
        previous_role="Product manager at an agency",
    ),
    DemoHire(
        "Rosa Jiménez",
        "devon",
        "marketing",
        -15,
        ON_TRACK,
        "new",
        new_to_pm=True,
        previous_role="Content strategist",
        extra=ExtraCourse("blackblot", 120, Decimal("900"), Assignment.PaidBy.HIRE),
    ),
    DemoHire(
        "Samuel Adeyemi",
        "devon",
        "owner",
        -150,
        COMPLETE,
        "owner",
        previous_role="General manager",
        held=(("CPM", 700, None),),
    ),
    DemoHire(
        "Tomás Silva",
        "devon",
        "tech",
        -5,
        AT_RISK,
        "experienced",
        previous_role="Technical lead",
    ),
    DemoHire(
        "Uma Krishnan",
        "devon",
        "generalist",
        -65,
        OVERDUE,
        "new",
        new_to_pm=True,
        previous_role="Business analyst",
    ),
    DemoHire(
        "Victor Nguyen",
        "devon",
        "tech",
        7,
        NOT_STARTED,
        "safe",
        previous_role="Product owner",
        tuition_known=False,
    ),
    DemoHire(
        "Wen Zhang",
        "devon",
        "marketing",
        -260,
        COMPLETE,
        "experienced",
        previous_role="Growth marketer",
        waive=("engineering", "Joined from the same engineering organisation."),
        archived=True,
        extra_notes="Left the company after eight months.",
    ),
    DemoHire(
        "Xavier Dubois",
        "devon",
        "owner",
        -30,
        ON_TRACK,
        "owner",
        previous_role="Finance business partner",
        notes=((MILEAGE_SLUG, MILEAGE_NOTES["owner"], True),),
    ),
    DemoHire(
        "Yasmin Ali",
        "devon",
        "generalist",
        -180,
        COMPLETE,
        "new",
        new_to_pm=True,
        previous_role="Operations coordinator",
        archived=True,
        extra_notes="Transferred to a sister company.",
    ),
    DemoHire(
        "Zoe Fischer",
        "devon",
        "tech",
        -200,
        COMPLETE,
        "safe",
        previous_role="Scrum master",
        earns=("popm", 365),
    ),
    DemoHire(
        "Aaron Goldberg",
        "devon",
        "generalist",
        2,
        NOT_STARTED,
        "new",
        new_to_pm=True,
        previous_role="Graduate programme",
        tuition_known=False,
    ),
    DemoHire(
        "Bianca Ferreira",
        "devon",
        "marketing",
        -35,
        COMPLETE,
        "experienced",
        previous_role="Brand manager",
        notes=((MILEAGE_SLUG, MILEAGE_NOTES["marketing"], True),),
    ),
    DemoHire(
        "Carlos Mendes",
        "devon",
        "tech",
        -18,
        ON_TRACK,
        "new",
        new_to_pm=True,
        previous_role="Support engineer",
    ),
    DemoHire(
        "Dana Whitfield",
        "devon",
        "owner",
        -8,
        AT_RISK,
        "owner",
        previous_role="Finance lead",
    ),
]


# --- seeding ---------------------------------------------------------------------------------


@dataclass
class SeedResult:
    """What a run did: which users got the password, how many hires were new."""

    users: list[tuple[DemoUser, bool]] = field(default_factory=list)  # (user, password set?)
    hires_created: int = 0
    hires_existing: int = 0
    past_cohort_created: int = 0
    example_courses_priced: int = 0
    # The demo hire who can sign in to their own page: (username, password set?).
    hire_login: tuple[str, bool] | None = None

    @property
    def any_password_set(self) -> bool:
        return any(password_set for _, password_set in self.users)


class DemoDataError(Exception):
    """The database lacks something the demo needs (role groups, shipped catalog)."""


def seed(*, password: str, reset_passwords: bool, today: datetime.date) -> SeedResult:
    """Create the demo users and hires that are missing.

    New users get `password`; existing users get it only when `reset_passwords`
    (the caller chose the password explicitly), otherwise they keep theirs.
    """
    result = SeedResult()
    with transaction.atomic():
        users = _seed_users(password=password, reset_passwords=reset_passwords, result=result)
        lookups = _Lookups()
        for spec in HIRES:
            if NewHire.objects.filter(email__iexact=spec.email).exists():
                result.hires_existing += 1
                continue
            _seed_hire(spec, manager=users[spec.manager], today=today, lookups=lookups)
            result.hires_created += 1
        result.past_cohort_created = demo_ramp.seed_past_cohort(managers=users, today=today)
        result.hire_login = _seed_hire_login(
            users=users, password=password, reset_password=reset_passwords
        )
        # After the plans: priced courses would otherwise price the demo's assignments
        # whose tuition is meant to be still open.
        result.example_courses_priced = _seed_example_course_figures()
    return result


def _seed_example_course_figures() -> int:
    """Give the demo catalog example prices and hours where it has none; returns how many
    courses changed. Figures someone entered are never replaced."""
    changed = 0
    for (provider, title), (tuition, hours) in EXAMPLE_COURSE_FIGURES.items():
        course = Course.objects.filter(provider=provider, title=title).first()
        if course is None:
            continue
        fields = []
        if tuition is not None and course.tuition is None:
            course.tuition = tuition
            fields.append("tuition")
        if course.duration_hours is None:
            course.duration_hours = hours
            fields.append("duration_hours")
        if not fields:
            continue
        if EXAMPLE_FIGURES_NOTE not in course.description:
            course.description = f"{course.description}\n\n{EXAMPLE_FIGURES_NOTE}".strip()
            fields.append("description")
        course.save(update_fields=fields)
        changed += 1
    return changed


# The demo hire who signs in to their own page (/me/).
HIRE_LOGIN = "Carlos Mendes"


def _seed_hire_login(
    *, users: dict[str, User], password: str, reset_password: bool
) -> tuple[str, bool] | None:
    hire = NewHire.objects.filter(full_name=HIRE_LOGIN, archived_at__isnull=True).first()
    if hire is None:
        return None
    created = hire.account is None
    if created:
        services.invitation_send(actor=hire.hiring_manager, hire=hire, notify=False)
        hire.refresh_from_db()
    account = hire.account
    if created or reset_password:
        # As for the other demo users: the demo password, even if a validator would
        # call it weak (the caller chose it).
        account.password = make_password(password)
        account.save(update_fields=["password"])
        HireInvitation.objects.filter(hire=hire).pending().update(used_at=timezone.now())
    return account.username, created or reset_password


def _groups() -> dict[str, list[Group]]:
    found = {group.name: group for group in Group.objects.filter(name__in=GROUPS.values())}
    missing = set(GROUPS.values()) - set(found)
    if missing:
        raise DemoDataError(f"Missing groups {sorted(missing)}: run `manage.py migrate`.")
    return {role: [found[name]] for role, name in GROUPS.items()} | {"superuser": []}


def _seed_users(*, password: str, reset_passwords: bool, result: SeedResult) -> dict[str, User]:
    groups = _groups()
    hashed = None  # hashing is deliberately slow: do it once for every user
    users = {}
    for spec in USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@{EMAIL_DOMAIN}",
                "is_staff": True,
                "is_superuser": spec.role == "superuser",
            },
        )
        dirty = False
        if created or reset_passwords:
            hashed = hashed or make_password(password)
            user.password = hashed
            dirty = True
        if not (user.is_staff and user.is_active):
            # A demo account someone switched off would make the printed login lie.
            user.is_staff = user.is_active = True
            dirty = True
        if dirty:
            user.save()
        user.groups.add(*groups[spec.role])
        users[spec.username] = user
        result.users.append((spec, created or reset_passwords))
    return users


class _Lookups:
    """Catalog rows by natural key, fetched once per run."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], object] = {}

    def _get(self, kind: str, name: str, query):
        if (kind, name) not in self._cache:
            try:
                self._cache[kind, name] = query()
            except ObjectDoesNotExist as exc:
                raise DemoDataError(
                    f"The catalog has no {kind} {name!r}; the demo needs the shipped catalog "
                    "that `manage.py migrate` installs on a new database."
                ) from exc
        return self._cache[kind, name]

    def profile(self, key: str) -> RoleProfile:
        name = PROFILES[key]
        return self._get("role profile", name, lambda: RoleProfile.objects.get(name=name))

    def template(self, key: str) -> PlanTemplate:
        name = TEMPLATES[key]
        return self._get("plan template", name, lambda: PlanTemplate.objects.get(name=name))

    def course(self, key: str) -> Course:
        provider, title = COURSES[key]
        return self._get(
            "course",
            f"{title} ({provider})",
            lambda: Course.objects.select_related("certification").get(
                provider=provider, title=title
            ),
        )

    def certification(self, key: str) -> Certification:
        name = CERTIFICATIONS[key]
        return self._get("certification", name, lambda: Certification.objects.get(name=name))


def _days(today: datetime.date, offset: int) -> datetime.date:
    return today + datetime.timedelta(days=offset)


def _seed_hire(spec: DemoHire, *, manager: User, today: datetime.date, lookups: _Lookups) -> None:
    start = _days(today, spec.start)
    hire = services.hire_create(
        actor=manager,
        full_name=spec.full_name,
        email=spec.email,
        hiring_manager=manager,
        start_date=start,
        role_profile=lookups.profile(spec.profile),
        new_to_product_management=spec.new_to_pm,
        previous_role=spec.previous_role,
        notes=spec.extra_notes,
    )
    for key, earned_ago, expires_in in spec.held:
        # Earned before joining, so no assignment (and no service) is involved.
        HeldCertification.objects.get_or_create(
            hire=hire,
            certification=lookups.certification(key),
            earned_on=_days(today, -earned_ago),
            defaults={"expires_on": None if expires_in is None else _days(today, expires_in)},
        )
    if spec.template is not None:
        plan = services.plan_create(
            actor=manager, hire=hire, template=lookups.template(spec.template)
        )
        if spec.extra is not None:
            services.assignment_add(
                actor=manager,
                plan=plan,
                course=lookups.course(spec.extra.course),
                due_date=start + datetime.timedelta(days=spec.extra.due_after_start),
                tuition_cost=spec.extra.tuition,
                paid_by=spec.extra.paid_by,
            )
        _set_tuition(spec, plan=plan, manager=manager)
        _progress(spec, plan=plan, manager=manager, today=today, lookups=lookups)
        for slug, note, discussed in spec.notes:
            attached = plan.guidance.filter(guidance__slug=slug).first()
            if attached is not None:
                services.plan_guidance_update(
                    actor=manager, plan_guidance=attached, manager_note=note, discussed=discussed
                )
        # A hire whose training is overdue is behind on check-ins too.
        demo_ramp.rate_due_check_ins(
            hire, manager=manager, today=today, leave_latest_open=spec.scenario == OVERDUE
        )
    if spec.archived:
        services.hire_archive(actor=manager, hire=hire)


def _set_tuition(spec: DemoHire, *, plan, manager: User) -> None:
    if not spec.tuition_known:
        return  # not booked yet: the price is still open
    for assignment in plan.assignments.select_related("course"):
        amount = TUITION.get(assignment.course.title)
        if amount is None or assignment.tuition_cost is not None:
            continue
        services.assignment_update(
            actor=manager, assignment=assignment, tuition_cost=amount, paid_by=spec.paid_by
        )


def _progress(
    spec: DemoHire, *, plan, manager: User, today: datetime.date, lookups: _Lookups
) -> None:
    """Move the plan's assignments so the hire lands in `spec.scenario`."""
    assignments = list(plan.assignments.select_related("course").order_by("position", "id"))
    past_due = [a for a in assignments if a.due_date < today]
    # Overdue: the latest past-due course is still open. At risk: the first course due
    # within two weeks is not booked yet. Everything else is on schedule.
    left_open = past_due[-1] if spec.scenario == OVERDUE and past_due else None
    unbooked = None
    if spec.scenario == AT_RISK:
        unbooked = next((a for a in assignments if today <= a.due_date <= _days(today, 14)), None)
    waive_course = lookups.course(spec.waive[0]) if spec.waive else None
    earns_course = lookups.course(spec.earns[0]) if spec.earns else None
    for index, assignment in enumerate(assignments):
        if waive_course is not None and assignment.course_id == waive_course.pk:
            services.assignment_waive(actor=manager, assignment=assignment, reason=spec.waive[1])
        elif spec.scenario == COMPLETE or (
            assignment.due_date < today and assignment is not left_open
        ):
            completed_on = min(today, assignment.due_date - datetime.timedelta(days=index % 3))
            earned = expires = None
            if earns_course is not None and assignment.course_id == earns_course.pk:
                earned = completed_on
                valid_days = spec.earns[1]
                expires = None if valid_days is None else earned + datetime.timedelta(valid_days)
            services.assignment_complete(
                actor=manager,
                assignment=assignment,
                completed_on=completed_on,
                certification_earned_on=earned,
                certification_expires_on=expires,
            )
        elif assignment is left_open:
            services.assignment_set_status(
                actor=manager, assignment=assignment, status=Assignment.Status.IN_PROGRESS
            )
        elif assignment is unbooked:
            continue
        elif assignment.due_date <= _days(today, 30):
            # Booked: a session a few days before the due date, never in the past.
            session = max(today, assignment.due_date - datetime.timedelta(days=3))
            services.assignment_update(actor=manager, assignment=assignment, scheduled_for=session)
            services.assignment_set_status(
                actor=manager, assignment=assignment, status=Assignment.Status.SCHEDULED
            )
