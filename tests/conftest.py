import pytest
from rest_framework.test import APIClient

import sfemulator
from crmbridge.roles import ADMIN, CSM, REP
from tests.factories import SalesforceUserFactory, UserFactory

# Real servers (Dovecot, Radicale) as session-scoped fixtures; see tests/servers/.
pytest_plugins = ["tests.servers.dovecot", "tests.servers.radicale"]


@pytest.fixture(autouse=True)
def _transactional_tests_restore_migrated_rows(request):
    """Every transactional test uses serialized_rollback. Its flush drops the rows the migrations
    create (role groups, Global Settings, the default profile); mixed with tests that do not restore
    them, a test would find them or not depending on which test its worker ran before."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
        pytest.fail("use @pytest.mark.django_db(transaction=True, serialized_rollback=True)")


@pytest.fixture
def admin_member(db):
    """A non-superuser in the Admin group: the role, not Django's superuser flag, grants access."""
    return UserFactory(username="ada", role=ADMIN)


@pytest.fixture
def csm_user(db):
    return UserFactory(username="cora", role=CSM)


@pytest.fixture
def rep_user(db):
    return UserFactory(username="rex", role=REP)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="rita", role=REP)


@pytest.fixture
def rep_sf(rep_user):
    """The rep's Salesforce User (same e-mail), linked."""
    return SalesforceUserFactory(name="Rex Rep", user=rep_user)


@pytest.fixture
def api_as():
    """api_as(user) -> an APIClient authenticated with the user's DRF token."""
    from rest_framework.authtoken.models import Token

    def make(user):
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def sf_org():
    """An empty emulated Salesforce org in memory, with the 4 LeadStatus values of a new org."""

    org = sfemulator.Org(":memory:")
    return org


@pytest.fixture
def sf_client(sf_org):
    """A client for `sf_org`, installed as crmbridge's process-wide client for the test."""
    from integrations.salesforce import SalesforceClient, install_client

    client = SalesforceClient.for_emulator(sf_org, base_delay=0)
    install_client(client)
    yield client
    install_client(None)


@pytest.fixture
def enqueue(db):
    """enqueue(sobject=..., payload=..., crmbridge_id=..., ...) in its own transaction."""
    from django.db import transaction

    from integrations.outbox.services import outbox_enqueue

    def make(**kwargs):
        with transaction.atomic():
            return outbox_enqueue(**kwargs)

    return make
