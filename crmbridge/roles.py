"""Roles: Django groups whose permissions are declared here, in one place.

The groups are created by a data migration; their permissions are (re)applied after every
`migrate`, so models added later by other apps get the right permissions without a new migration.
Server-side checks use `has_role` (API) and Django's model permissions (admin).
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission

ADMIN = "Admin"
CSM = "CSM"
REP = "Rep"
ROLES = (ADMIN, CSM, REP)

# Apps whose every model a CSM may view (read-only elsewhere than classification).
CSM_VIEW_APPS = ("crmbridge", "accounts", "activities", "integrations", "sync", "dialer")
# Apps a CSM may fully edit.
CSM_EDIT_APPS = ("classification",)
# A rep works their own activity feed; which rows are "their own" is enforced by querysets.
REP_PERMISSIONS = (
    "activities.view_activity",
    "activities.change_activity",
    "activities.view_participant",
    "activities.view_contactdecision",
    "accounts.view_account",
    "accounts.view_opportunity",
    # Their own CardDAV address books (querysets show a rep only theirs).
    "addressbooks.view_addressbook",
    "addressbooks.add_addressbook",
    "addressbooks.change_addressbook",
    "addressbooks.delete_addressbook",
    "addressbooks.view_addressbookrun",
    # Their own mailbox and calendar sources (querysets show a rep only their own).
    "capture.view_capturesource",
    "capture.add_capturesource",
    "capture.change_capturesource",
    "capture.delete_capturesource",
    "capture.view_capturerun",
)

# Models no role but Admin may even see, whatever the app rules above say.
ADMIN_ONLY_MODELS = {
    ("crmbridge", "configurationprofile"),
    ("crmbridge", "profilemembership"),
    ("crmbridge", "salesforceconnection"),
    ("crmbridge", "historicalsalesforceconnection"),
}


def _permissions_for(role):
    local_apps = set(CSM_VIEW_APPS) | set(CSM_EDIT_APPS)
    perms = Permission.objects.select_related("content_type")
    if role == ADMIN:
        return list(perms.all())
    if role == CSM:
        chosen = []
        for perm in perms.filter(content_type__app_label__in=local_apps):
            ct = perm.content_type
            if (ct.app_label, ct.model) in ADMIN_ONLY_MODELS:
                continue
            if ct.app_label in CSM_EDIT_APPS or perm.codename.startswith("view_"):
                chosen.append(perm)
        return chosen
    codenames = [name.split(".", 1) for name in REP_PERMISSIONS]
    rep_apps = {app for app, _ in codenames}
    return [
        perm
        for perm in perms.filter(content_type__app_label__in=rep_apps)
        if [perm.content_type.app_label, perm.codename] in codenames
    ]


def sync_role_permissions(**kwargs):
    """post_migrate handler: give each role group exactly its declared permissions."""
    if not apps.is_installed("django.contrib.auth"):
        return
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions_for(role))


def has_role(user, *roles) -> bool:
    """True when the user is active and in one of the roles; superusers count as Admin."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser and ADMIN in roles:
        return True
    return not _role_names(user).isdisjoint(roles)


def _role_names(user):
    """The user's group names, read once per user object, as Django caches permissions on it
    (an admin page asks a dozen times: the menu, each model's permissions, the feed)."""
    try:
        return user._role_names
    except AttributeError:
        user._role_names = frozenset(user.groups.values_list("name", flat=True))
        return user._role_names


def forget_role_names(sender, instance, action, **kwargs):
    """m2m_changed of User.groups: the changed user object reads its groups again."""
    if action.startswith("post_"):
        instance.__dict__.pop("_role_names", None)
