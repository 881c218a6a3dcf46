"""Demo users, one per role, and the order in which apps load their demo data.

Each app may add demo data in `<app>/demo.py: load_demo(out)`; `manage.py demo_setup` calls them
in DEMO_ORDER: the emulated org and its first pull, then rules, then domains, then activity.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .models import ConfigurationProfile, ProfileMembership
from .roles import ADMIN, CSM, REP

DEMO_ORDER = ["sync", "classification", "accounts", "activities", "dialer", "capture"]
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
