"""A dialer world in a few lines: a project with its secret, integrations by action, and a
helper that posts a call result through the webhook and runs its task inline."""

import itertools

import pytest
from rest_framework.test import APIClient

from integrations.dialer import services
from integrations.dialer.models import Integration
from tests.factories import DialerProjectFactory

_calls = itertools.count(1)

# Dialer field -> (object, Salesforce field) of a typical integration.
PERSON = [
    ("first_name", "FirstName"),
    ("last_name", "LastName"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("title", "Title"),
]


@pytest.fixture
def project(db):
    return DialerProjectFactory(name="Outbound EMEA")


@pytest.fixture
def make_integration(project, sf_client):
    def make(
        action,
        *,
        codes=("YES",),
        keys=(("email", "Email"),),
        lead=PERSON + [("company", "Company")],
        contact=PERSON,
        account=(("company", "Name"), ("website", "Website")),
        opportunity=(),
        recipients="ops@crmbridge.example",
        name=None,
    ):
        integration = Integration(
            project=project,
            name=name or f"{action} {'/'.join(codes)}",
            action=action,
            email_on_error=recipients,
        )
        mappings = (
            [{"dialer_field": d, "sobject": "Lead", "salesforce_field": s} for d, s in lead]
            + [{"dialer_field": d, "sobject": "Contact", "salesforce_field": s} for d, s in contact]
            + [{"dialer_field": d, "sobject": "Account", "salesforce_field": s} for d, s in account]
            + [
                {"dialer_field": d, "sobject": "Opportunity", "salesforce_field": s}
                for d, s in opportunity
            ]
        )
        return services.integration_save(
            integration=integration,
            result_codes=list(codes),
            secondary_keys=[{"dialer_field": d, "salesforce_field": s} for d, s in keys],
            field_mappings=mappings,
        )

    return make


@pytest.fixture
def post_call(project, django_capture_on_commit_callbacks):
    """post_call(result_code, record, call_id=None, secret=None) -> the response (the run's task
    has run inline when it returns)."""

    def post(result_code, record, *, call_id=None, secret=None, project_id=None):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret or project.secret}")
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/v1/dialer/call-results/",
                {
                    "project": project_id or project.pk,
                    "call_id": call_id or f"call-{next(_calls)}",
                    "result_code": result_code,
                    "record": record,
                },
                format="json",
            )

    return post


@pytest.fixture
def run_of(project):
    """run_of(response) -> the run as the API shows it now."""

    def get(response):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {project.secret}")
        answer = client.get(f"/api/v1/dialer/runs/{response.json()['id']}/")
        assert answer.status_code == 200
        return answer.json()

    return get
