"""schemathesis against the API's own OpenAPI schema, as a hiring manager with a
read-write token: no input may cause a 500, and no answer may break the schema.

The examples run through the real WSGI stack in the test's transaction, over a small
world of the manager's objects (so some generated ids hit rows) and another
manager's (which must stay invisible).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from onboarding import services

from .factories import AssignmentFactory, HeldCertificationFactory, NewHireFactory

# Bounded: about 30 operations, each this many generated requests.
EXAMPLES_PER_OPERATION = 25

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture
def manager_token(owner, plan, outsider) -> str:
    AssignmentFactory(plan=plan)
    HeldCertificationFactory(hire=plan.hire)
    NewHireFactory(hiring_manager=outsider)
    _, secret = services.api_token_create(actor=owner, user=owner, name="fuzz", scope="write")
    return secret


@pytest.fixture
def in_test_transaction():
    # As Django's test client does: a request must not close the test's connection
    # (and with it the transaction that holds the test's rows).
    request_started.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_keeps_to_its_schema(case, manager_token, in_test_transaction):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {manager_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )


LISTS = [
    path
    for path, operations in schema.raw_schema["paths"].items()
    if "{" not in path and "get" in operations and path.startswith("/api/v1/")
]


@pytest.mark.parametrize("path", LISTS)
def test_it_answers_every_list_with_rows_within_its_schema(
    path, manager_token, in_test_transaction
):
    # Generated examples mostly miss the few rows there are; a plain first page does not.
    case = schema[path]["GET"].Case()
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {manager_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
    assert response.status_code == 200
    assert response.json()["results"], f"{path} listed nothing: the check saw no row"
