"""Demo users, one per role, and the order in which apps load their demo data.

Each app may add demo data in `<app>/demo.py: load_demo(out)`; `manage.py demo_setup` calls them
in DEMO_ORDER: the Salesforce connection, the emulated org and its first pull, then rules, then
domains, then activity.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

import sfemulator
from integrations.salesforce import AuthFlow
from sfemulator.seed import demo_connected_app

from .models import ConfigurationProfile, ProfileMembership, SalesforceConnection
from .roles import ADMIN, CSM, REP
from .salesforce_connection import environment, salesforce_connection_update

# The embedded emulated org answers any host in this process; this one stands for its My Domain.
DEMO_LOGIN_URL = "https://crmbridge-demo.my.salesforce.com"
DEMO_ORDER = ["crmbridge", "sync", "classification", "accounts", "activities", "dialer", "capture"]
DEMO_DOMAIN = "crmbridge.example"
DEMO_USERS = [
    # username, role, first name, last name
    ("admin", ADMIN, "Ada", "Admin"),
    ("csm", CSM, "Cora", "Success"),
    ("rep", REP, "Rex", "Seller"),
    ("rep2", REP, "Rita", "Closer"),
]


def demo_users_create(*, password: str) -> str:
    """Create (or reset) the demo users, all with `password`."""
    User = get_user_model()
    for username, role, first, last in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.email = f"{username}@{DEMO_DOMAIN}"
        user.first_name, user.last_name = first, last
        user.is_staff = True
        user.is_superuser = False
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
    sales, _ = ConfigurationProfile.objects.get_or_create(
        name="Sales team", defaults={"contact_creation_enabled": True}
    )
    for user in User.objects.filter(username__in=["rep", "rep2"]):
        ProfileMembership.objects.update_or_create(user=user, defaults={"profile": sales})
    return password


def load_demo(out):
    """Connect to the embedded emulated org by OAuth (client credentials with the demo org's
    connected app), unless the environment configures a connection of its own."""
    env = environment()
    path = env.get("EMULATOR")
    if not path or {"AUTH_FLOW", "USERNAME", "INSTANCE_URL"} & env.keys():
        return
    org = sfemulator.Org(path)
    try:
        app = demo_connected_app(org)
    finally:
        org.close()
    if SalesforceConnection.load().consumer_key != app.consumer_key:
        salesforce_connection_update(
            changes={
                "flow": AuthFlow.CLIENT_CREDENTIALS.value,
                "login_url": DEMO_LOGIN_URL,
                "consumer_key": app.consumer_key,
                "consumer_secret": app.consumer_secret,
            }
        )
    out.write(f"  Salesforce: OAuth client credentials against the emulated org at {path}")
