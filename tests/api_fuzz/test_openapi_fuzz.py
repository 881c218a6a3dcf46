"""schemathesis over the whole REST API, in process (WSGI), as an Admin and as nobody.

Every operation in /api/schema/ (drf-spectacular) is called with generated data, valid and
invalid. Bounded for CI: 25 derandomized examples per operation as an Admin, 5 as anonymous.

Checks, and why these:
- not_a_server_error: bad input is a 4xx with a reason, never a 500;
- response_schema_conformance, content_type_conformance, response_headers_conformance: what the
  API answers is what its schema says (for the status codes the schema documents).
Left out on purpose: status_code_conformance (drf-spectacular documents only the success codes,
so every 400/404 would be "undocumented" noise), positive_data_acceptance (schema-valid data may
still name a Salesforce Id or user that does not exist: a 400 is right), and the stateful
checks (use_after_free, ensure_resource_availability), which need links the schema lacks.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
FUZZ = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def keep_the_test_connection_open(db):
    # As Django's test client does: a request must not close the test's database connection
    # (it holds the test transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(admin_member):
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=admin_member)
    return token.key


# Loaded when the module is collected (the schema is built from code; no database needed), so
# that each operation is its own test item. (schemathesis.pytest.from_fixture would defer it, but
# schemathesis 4.32's lazy loader does not run on pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


def test_the_schema_lists_the_api():
    paths = {op.ok().path for op in schema.get_all_operations()}

    assert "/api/v1/settings/" in paths and "/api/v1/profiles/" in paths, sorted(paths)


@schema.parametrize()
@FUZZ
def test_no_operation_fails_or_breaks_its_schema_for_an_admin(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"}, checks=CHECKS)


@schema.parametrize()
@settings(FUZZ, max_examples=5)
def test_every_operation_refuses_anonymous_callers(case):
    response = case.call()

    # 401, or a 404 when the generated path names no route at all (e.g. an id of "0.5"): in
    # neither case does anything but the error reach the caller.
    what = (case.method, case.formatted_path, response.status_code, response.text[:300])
    assert response.status_code in (401, 404), what
    if response.status_code == 404:
        # Django's own 404 (the path matches no route: the control panel's styled page) or DRF's.
        text = response.text
        assert "Page not found" in text or response.json() == {"detail": "Not found."}, what
