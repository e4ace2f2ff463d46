"""The catalog and guidance library that ship with the product.

Installed once by a data migration; afterwards the rows belong to the
organisation, which edits or deactivates them in the admin or the dashboard.
Tuition is left empty wherever the price is not known to us.
"""

from __future__ import annotations

from typing import Any

MILEAGE_SLUG = "mileage-may-vary"

ROLE_PROFILES = [
    {
        "name": "Business owner (P&L)",
        "archetype": "business_owner",
        "expectations": (
            "Owns the results of a product line, including revenue and cost targets.\n"
            "- Sets pricing and packaging with finance and sales.\n"
            "- Decides what to build next from market evidence and the numbers.\n"
            "- Reports on the business each quarter.\n"
            "Adapt this list: say which numbers this person owns and who they answer to."
        ),
    },
    {
        "name": "Technical product manager (APM-style)",
        "archetype": "technical",
        "expectations": (
            "Works day to day with an engineering team on a technical product or platform.\n"
            "- Writes and prioritises the backlog; makes trade-offs with the tech lead.\n"
            "- Understands the architecture well enough to weigh cost against value.\n"
            "- Owns delivery goals that reach beyond one sprint.\n"
            "Adapt this list: say how much design and technical judgement the role carries."
        ),
    },
    {
        "name": "Marketing-focused product manager",
        "archetype": "marketing",
        "expectations": (
            "Connects the product to its market.\n"
            "- Positioning, messaging and launches, with marketing and sales.\n"
            "- Win/loss and competitive analysis.\n"
            "- Brings buyer and user evidence back to the roadmap.\n"
            "Adapt this list: say where this role ends and product marketing begins here."
        ),
    },
    {
        "name": "Generalist product manager",
        "archetype": "generalist",
        "expectations": (
            "Covers whatever the product needs that nobody else owns yet.\n"
            "- Discovery, delivery and launch, in the proportions the team needs.\n"
            "- Fills gaps without letting them become the whole job.\n"
            "Adapt this list: name the two or three things that matter most this year, so the "
            "catch-all work does not crowd them out."
        ),
    },
]

CERTIFICATIONS = [
    {
        "name": "Pragmatic Institute Product Management Certification",
        "issuer": "Pragmatic Institute",
        "abbreviation": "PMC",
        "framework_bound": False,
        "notes": "Earned through Pragmatic Institute's product management courses.",
    },
    {
        "name": "Certified Product Manager",
        "issuer": "AIPMM",
        "abbreviation": "CPM",
        "framework_bound": False,
        "notes": "From the Association of International Product Marketing and Management.",
    },
    {
        "name": "Blackblot Product Manager Certification",
        "issuer": "Blackblot",
        "abbreviation": "",
        "framework_bound": False,
        "notes": "",
    },
    {
        "name": "SAFe Product Owner/Product Manager",
        "issuer": "Scaled Agile",
        "abbreviation": "POPM",
        "framework_bound": True,
        "notes": "A defined role in the Scaled Agile Framework: it counts where SAFe is used.",
    },
    {
        "name": "SAFe Agile Product Manager",
        "issuer": "Scaled Agile",
        "abbreviation": "APM",
        "framework_bound": True,
        "notes": "A defined role in the Scaled Agile Framework: it counts where SAFe is used.",
    },
]

_PRAGMATIC = "Pragmatic Institute"
_IN_HOUSE = "In-house"

COURSES = [
    {
        "title": "Foundations",
        "provider": _PRAGMATIC,
        "delivery": "live_online",
        "certification": "PMC",
        "description": "The market-driven product management framework: the course most new "
        "product managers start with.",
    },
    {
        "title": "Focus",
        "provider": _PRAGMATIC,
        "delivery": "live_online",
        "certification": "PMC",
        "description": "Market research and turning evidence into priorities.",
    },
    {
        "title": "Build",
        "provider": _PRAGMATIC,
        "delivery": "live_online",
        "certification": "PMC",
        "description": "Working with development teams to build what the market needs.",
    },
    {
        "title": "Market",
        "provider": _PRAGMATIC,
        "delivery": "live_online",
        "certification": "PMC",
        "description": "Positioning, messaging and go-to-market.",
    },
    {
        "title": "Launch",
        "provider": _PRAGMATIC,
        "delivery": "live_online",
        "certification": "PMC",
        "description": "Planning and running product launches.",
    },
    {
        "title": "Certified Product Manager exam preparation",
        "provider": "AIPMM",
        "delivery": "self_paced",
        "certification": "CPM",
        "description": "Preparation for the AIPMM Certified Product Manager exam.",
    },
    {
        "title": "Product management professional training",
        "provider": "Blackblot",
        "delivery": "live_online",
        "certification": "Blackblot Product Manager Certification",
        "description": "Blackblot's product management training and certification.",
    },
    {
        "title": "SAFe Product Owner/Product Manager",
        "provider": "Scaled Agile",
        "delivery": "live_online",
        "certification": "POPM",
        "description": "The POPM role in an organisation that runs the Scaled Agile Framework.",
    },
    {
        "title": "SAFe Agile Product Management",
        "provider": "Scaled Agile",
        "delivery": "live_online",
        "certification": "APM",
        "description": "Agile product management in a SAFe organisation.",
    },
    {
        "title": "How we build products here",
        "provider": _IN_HOUSE,
        "delivery": "in_person",
        "tuition": "0",
        "description": "Our product process, planning calendar, and who decides what.",
    },
    {
        "title": "Working with our engineering teams",
        "provider": _IN_HOUSE,
        "delivery": "in_person",
        "tuition": "0",
        "description": "Rituals, tools and expectations of the engineering teams you join.",
    },
    {
        "title": "Customer discovery interviews",
        "provider": _IN_HOUSE,
        "delivery": "live_online",
        "tuition": "0",
        "description": "Planning, running and sharing customer interviews.",
    },
    {
        "title": "Reading our P&L",
        "provider": _IN_HOUSE,
        "delivery": "self_paced",
        "tuition": "0",
        "description": "For roles that own revenue and cost: how our numbers are built.",
    },
]

PLAN_TEMPLATES = [
    {
        "name": "New to product management",
        "description": "For a first product role: our own ways of working, then Pragmatic "
        "Institute's foundations.",
        "items": [
            ("How we build products here", _IN_HOUSE, 7),
            ("Working with our engineering teams", _IN_HOUSE, 14),
            ("Foundations", _PRAGMATIC, 45),
            ("Customer discovery interviews", _IN_HOUSE, 60),
            ("Focus", _PRAGMATIC, 90),
        ],
    },
    {
        "name": "Experienced product manager",
        "description": "For someone who has done the job elsewhere: learn how we do it here.",
        "items": [
            ("How we build products here", _IN_HOUSE, 7),
            ("Working with our engineering teams", _IN_HOUSE, 14),
            ("Customer discovery interviews", _IN_HOUSE, 30),
        ],
    },
    {
        "name": "Business owner",
        "description": "For a role with P&L responsibility.",
        "items": [
            ("How we build products here", _IN_HOUSE, 7),
            ("Reading our P&L", _IN_HOUSE, 21),
            ("Market", _PRAGMATIC, 60),
        ],
    },
    {
        "name": "SAFe organisation",
        "description": "For teams that run the Scaled Agile Framework.",
        "items": [
            ("How we build products here", _IN_HOUSE, 7),
            ("SAFe Product Owner/Product Manager", "Scaled Agile", 45),
        ],
    },
]

# Template -> the shipped role profiles it suits: a hire of one of them gets the
# template pre-selected on the new-plan page.
TEMPLATE_ROLE_PROFILES = {
    "Business owner": ["Business owner (P&L)"],
    "Experienced product manager": [
        "Technical product manager (APM-style)",
        "Marketing-focused product manager",
        "Generalist product manager",
    ],
}

GUIDANCE = [
    {
        "slug": MILEAGE_SLUG,
        "title": "Your mileage may vary",
        "rule": "always",
        "body": (
            "The courses in this plan give you a shared vocabulary and a sound map of what "
            "product managers do. They do not describe this job exactly: every organisation "
            "shapes the role its own way, and so do we. Treat what you learn as a toolkit, "
            "not a rulebook. Where the course and this role disagree, adapt to what the role "
            "needs here and talk it through with your manager, rather than reshaping the role "
            "to match the course."
        ),
    },
    {
        "slug": "role-defined-here",
        "title": "The role is defined here, not by the course",
        "rule": "manual",
        "body": (
            "Product management means different things in different companies: owning a P&L, "
            "leading a technical team's roadmap, driving the market message, or catching the "
            "work nobody else owns. Read the role profile for this position together, and "
            "agree which of its expectations matter most in the first ninety days."
        ),
    },
    {
        "slug": "certificate-is-not-the-job",
        "title": "A certificate records training, not readiness",
        "rule": "certification_course",
        "body": (
            "This plan includes a course that leads to a certification. The certificate shows "
            "you studied a body of knowledge; it does not make anyone instantly qualified for "
            "this role, and we will not judge your work by it. What counts is how you apply "
            "the ideas to our products and customers."
        ),
    },
    {
        "slug": "framework-certifications",
        "title": "Framework certifications count where the framework is used",
        "rule": "framework_certification",
        "body": (
            "Certifications tied to a framework with defined roles, such as SAFe's Product "
            "Owner/Product Manager, are the narrow case where a certificate maps to a real job "
            "description. They matter because the teams you work with run that framework. "
            "Learn the framework's roles and events, then learn how our teams actually use "
            "them, which may differ from the book."
        ),
    },
    {
        "slug": "new-to-product-management",
        "title": "New to product management: give it time",
        "rule": "new_to_pm",
        "body": (
            "Formal training is a good way into the role: it builds skills that carry across "
            "companies. Expect the first months to feel broad. Pair each course with a real "
            "piece of work here soon afterwards, and bring questions to your manager and peers "
            "rather than waiting until you feel qualified."
        ),
    },
    {
        "slug": "employer-paid-tuition",
        "title": "We cover this tuition because the training is worth it",
        "rule": "employer_paid",
        "body": (
            "The organisation pays for courses in this plan. We do so because good training "
            "is worth having, not to turn you into the course's idea of a product manager. "
            "Before the course, agree with your manager on one or two things you want to "
            "bring back; afterwards, share what you would use here and what you would not."
        ),
    },
    {
        "slug": "hiring-managers-and-certificates",
        "title": "For hiring managers: certificates are not a filter",
        "rule": "manual",
        "body": (
            "Outside framework roles such as SAFe, product management certificates say little "
            "about fit for a particular role. When you compare candidates, look at their "
            "experience and domain knowledge first; treat a certificate as a small plus, and "
            "the training behind it as something you can provide after hiring."
        ),
    },
]


def catalog_install(
    *,
    RoleProfile: Any,
    Certification: Any,
    Course: Any,
    PlanTemplate: Any,
    PlanTemplateItem: Any,
    Guidance: Any,
) -> None:
    """Create the shipped rows that are missing; never touch existing ones.

    Takes model classes so the data migration can pass its historical models.
    """
    for profile in ROLE_PROFILES:
        RoleProfile.objects.get_or_create(name=profile["name"], defaults=profile)
    certs = {}
    for cert in CERTIFICATIONS:
        obj, _ = Certification.objects.get_or_create(name=cert["name"], defaults=cert)
        certs[cert["abbreviation"] or cert["name"]] = obj
    for course in COURSES:
        fields = {k: v for k, v in course.items() if k != "certification"}
        if "certification" in course:
            fields["certification"] = certs[course["certification"]]
        Course.objects.get_or_create(
            provider=course["provider"], title=course["title"], defaults=fields
        )
    for template in PLAN_TEMPLATES:
        obj, created = PlanTemplate.objects.get_or_create(
            name=template["name"], defaults={"description": template["description"]}
        )
        if created:
            for position, (title, provider, offset) in enumerate(template["items"]):
                PlanTemplateItem.objects.create(
                    template=obj,
                    course=Course.objects.get(provider=provider, title=title),
                    due_offset_days=offset,
                    position=position,
                )
    for position, guidance in enumerate(GUIDANCE):
        Guidance.objects.get_or_create(
            slug=guidance["slug"], defaults={**guidance, "position": position}
        )


def catalog_link_templates(*, PlanTemplate: Any, RoleProfile: Any) -> None:
    """Link the shipped templates to the role profiles they suit, where a template has no
    links yet (an organisation's own choices are kept). Takes model classes like
    catalog_install, for the data migration."""
    for name, profiles in TEMPLATE_ROLE_PROFILES.items():
        template = PlanTemplate.objects.filter(name=name).first()
        if template is None or template.suits_role_profiles.exists():
            continue
        template.suits_role_profiles.add(*RoleProfile.objects.filter(name__in=profiles))
