"""The starter competency framework that ships with the product.

Eight skill areas of product management, each with what levels 1 to 4 look like,
the level each shipped role profile expects by day 90, and which shipped courses
are meant to build which areas. Installed once by a data migration; afterwards
it belongs to the organisation, which rewrites it to say what *its* roles need:
the point of the ramp is that "product manager" means something different here
than anywhere else.
"""

from __future__ import annotations

from typing import Any

COMPETENCIES = [
    {
        "slug": "customer-discovery",
        "name": "Customer discovery",
        "description": "Finding out what customers need before deciding what to build.",
        "levels": (
            "Sits in on interviews others run and writes down what was said.",
            "Plans and runs interviews from a guide; keeps what was heard apart from what "
            "was assumed.",
            "Runs discovery as a habit; turns patterns across many conversations into "
            "problems worth solving.",
            "Shapes how the whole organisation learns from customers and coaches others to do it.",
        ),
    },
    {
        "slug": "delivery",
        "name": "Delivery with engineering",
        "description": "Getting the right thing built and shipped with the engineering team.",
        "levels": (
            "Follows the team's rituals and keeps the backlog tidy when asked.",
            "Writes clear stories and acceptance criteria; answers the team's questions "
            "within the day.",
            "Makes scope trade-offs with the tech lead and keeps a release on course "
            "without heroics.",
            "Plans delivery across several teams and dependencies; others ask for their judgement.",
        ),
    },
    {
        "slug": "product-strategy",
        "name": "Product strategy",
        "description": "Deciding where the product should go and why, and saying no.",
        "levels": (
            "Can explain the current strategy in their own words.",
            "Connects their area's priorities to the strategy and argues for them with evidence.",
            "Proposes direction for their area over several quarters and holds it under pressure.",
            "Sets direction for a product line and changes the organisation's mind when "
            "the evidence says so.",
        ),
    },
    {
        "slug": "data-and-experimentation",
        "name": "Data and experimentation",
        "description": "Using numbers and tests to decide, and knowing their limits.",
        "levels": (
            "Reads the team's dashboards and asks where the numbers come from.",
            "Defines success measures for a feature and checks them after release.",
            "Designs experiments, reads the results honestly and changes course on them.",
            "Builds the measurement habits of a team; spots a misleading number quickly.",
        ),
    },
    {
        "slug": "technical-fluency",
        "name": "Technical fluency",
        "description": "Understanding how the product is built well enough to weigh cost "
        "against value.",
        "levels": (
            "Knows the main parts of the system and who looks after them.",
            "Follows design discussions and asks questions that change the outcome.",
            "Weighs technical options and their long-term cost with the engineers.",
            "Trusted by architects to represent the product in platform decisions.",
        ),
    },
    {
        "slug": "go-to-market",
        "name": "Go-to-market",
        "description": "Positioning, pricing and launching the product with marketing and sales.",
        "levels": (
            "Knows who buys the product and what the sales team says about it.",
            "Contributes positioning and release notes; briefs sales on a launch.",
            "Leads a launch with marketing and sales and measures how it went.",
            "Shapes pricing and packaging and the market's view of the product line.",
        ),
    },
    {
        "slug": "business-and-pl",
        "name": "Business and P&L",
        "description": "Owning the numbers: revenue, cost and the case for investment.",
        "levels": (
            "Knows which numbers the product is judged by.",
            "Builds a simple business case for a feature and tracks it.",
            "Owns a revenue or cost target and explains the variance each quarter.",
            "Runs a product line as a business and decides where to invest.",
        ),
    },
    {
        "slug": "stakeholder-communication",
        "name": "Communication with stakeholders",
        "description": "Keeping the people who depend on the product informed and aligned.",
        "levels": (
            "Shares updates when asked, in writing.",
            "Keeps their stakeholders informed without being asked; bad news early.",
            "Brings disagreeing stakeholders to a decision and writes it down.",
            "Aligns leaders across functions on hard trade-offs.",
        ),
    },
]

# Role profile name -> {competency slug: level expected by day 90}. They differ the way
# the archetypes differ: the business owner on P&L, the technical one on technical
# fluency and delivery, the marketing one on go-to-market.
EXPECTATIONS = {
    "Business owner (P&L)": {
        "customer-discovery": 2,
        "delivery": 2,
        "product-strategy": 3,
        "data-and-experimentation": 3,
        "technical-fluency": 2,
        "go-to-market": 3,
        "business-and-pl": 4,
        "stakeholder-communication": 3,
    },
    "Technical product manager (APM-style)": {
        "customer-discovery": 2,
        "delivery": 4,
        "product-strategy": 2,
        "data-and-experimentation": 3,
        "technical-fluency": 4,
        "go-to-market": 1,
        "business-and-pl": 1,
        "stakeholder-communication": 3,
    },
    "Marketing-focused product manager": {
        "customer-discovery": 3,
        "delivery": 2,
        "product-strategy": 2,
        "data-and-experimentation": 2,
        "technical-fluency": 1,
        "go-to-market": 4,
        "business-and-pl": 2,
        "stakeholder-communication": 3,
    },
    "Generalist product manager": {
        "customer-discovery": 3,
        "delivery": 3,
        "product-strategy": 2,
        "data-and-experimentation": 2,
        "technical-fluency": 2,
        "go-to-market": 2,
        "business-and-pl": 2,
        "stakeholder-communication": 3,
    },
}

# (provider, course title) -> the competencies it is meant to build.
COURSE_COMPETENCIES = {
    ("Pragmatic Institute", "Foundations"): (
        "product-strategy",
        "customer-discovery",
        "go-to-market",
    ),
    ("Pragmatic Institute", "Focus"): ("customer-discovery", "data-and-experimentation"),
    ("Pragmatic Institute", "Build"): ("delivery", "product-strategy"),
    ("Pragmatic Institute", "Market"): ("go-to-market",),
    ("Pragmatic Institute", "Launch"): ("go-to-market", "stakeholder-communication"),
    ("AIPMM", "Certified Product Manager exam preparation"): (
        "product-strategy",
        "business-and-pl",
    ),
    ("Blackblot", "Product management professional training"): (
        "product-strategy",
        "business-and-pl",
        "go-to-market",
    ),
    ("Scaled Agile", "SAFe Product Owner/Product Manager"): (
        "delivery",
        "stakeholder-communication",
    ),
    ("Scaled Agile", "SAFe Agile Product Management"): (
        "product-strategy",
        "delivery",
        "go-to-market",
    ),
    ("In-house", "How we build products here"): ("delivery", "stakeholder-communication"),
    ("In-house", "Working with our engineering teams"): ("technical-fluency", "delivery"),
    ("In-house", "Customer discovery interviews"): ("customer-discovery",),
    ("In-house", "Reading our P&L"): ("business-and-pl", "data-and-experimentation"),
}


def framework_install(
    *, Competency: Any, RoleExpectation: Any, RoleProfile: Any, Course: Any
) -> None:
    """Create the shipped framework rows that are missing; never touch existing ones.

    Takes model classes so the data migration can pass its historical models.
    Role profiles and courses the organisation renamed or removed are skipped.
    """
    by_slug = {}
    for position, spec in enumerate(COMPETENCIES):
        levels = {f"level_{n}": text for n, text in enumerate(spec["levels"], start=1)}
        competency, _ = Competency.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "position": position,
                **levels,
            },
        )
        by_slug[spec["slug"]] = competency
    for profile_name, levels in EXPECTATIONS.items():
        profile = RoleProfile.objects.filter(name=profile_name).first()
        if profile is None:
            continue
        for slug, level in levels.items():
            RoleExpectation.objects.get_or_create(
                role_profile=profile,
                competency=by_slug[slug],
                defaults={"expected_level": level},
            )
    for (provider, title), slugs in COURSE_COMPETENCIES.items():
        course = Course.objects.filter(provider=provider, title=title).first()
        if course is not None and not course.competencies.exists():
            course.competencies.add(*(by_slug[slug] for slug in slugs))
