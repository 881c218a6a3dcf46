import functools
from dataclasses import dataclass

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.shortcuts import redirect
from django.urls import path, reverse

from . import two_factor
from .attention import items_for
from .audit_views import audit_view
from .roles import ADMIN, has_role


@dataclass(frozen=True)
class Page:
    """A custom admin page in the navigation, shown when its gate lets the user open it."""

    name: str
    url_name: str
    # (app_label, ModelName) whose admin serves the page: listed only when that is visible.
    of: tuple
    admins_only: bool = False


# What each role does, in the order they do it. A model not named here falls into System, so
# nothing registered is ever out of reach.
NAVIGATION = [
    (
        "Activity",
        [
            ("activities", "Activity"),
            Page(
                "Why no Contact?",
                "admin:activities_why_no_contact",
                ("activities", "ContactDecision"),
            ),
            ("activities", "ContactDecision"),
            ("activities", "MatchEdit"),
            ("capture", "CaptureSource"),
            ("capture", "CaptureRun"),
            ("addressbooks", "AddressBook"),
            ("addressbooks", "AddressBookRun"),
        ],
    ),
    (
        "Salesforce",
        [
            ("crmbridge", "SalesforceConnection"),
            Page(
                "Sync dashboard",
                "admin:sync_syncrun_dashboard",
                ("sync", "SyncRun"),
                admins_only=True,
            ),
            ("sync", "SyncRun"),
            ("integrations", "OutboxItem"),
            ("sync", "Conflict"),
        ],
    ),
    (
        "Accounts & domains",
        [
            ("accounts", "Account"),
            ("accounts", "AccountDomain"),
            ("accounts", "OrphanContact"),
            ("accounts", "Contact"),
            ("accounts", "Lead"),
            ("accounts", "Opportunity"),
            ("accounts", "SalesforceUser"),
        ],
    ),
    (
        "Classification",
        [
            ("classification", "ClassificationRule"),
            Page(
                "Unclassified titles",
                "admin:classification_unclassified",
                ("classification", "ClassificationRule"),
            ),
            Page(
                "Executive engagement",
                "admin:activities_executive_engagement",
                ("classification", "ClassificationRule"),
            ),
            ("classification", "ClassificationValue"),
            ("classification", "ReclassificationRun"),
        ],
    ),
    ("Dialer", [("dialer", "DialerProject"), ("dialer", "Integration"), ("dialer", "CallRun")]),
    (
        "Settings",
        [
            ("crmbridge", "GlobalSettings"),
            ("crmbridge", "ConfigurationProfile"),
            ("sync", "SyncSettings"),
            ("classification", "ClassificationSettings"),
            ("otp_totp", "TOTPDevice"),
            Page("Audit trail", "admin:audit", ("crmbridge", "GlobalSettings"), admins_only=True),
        ],
    ),
]
SYSTEM = "System"


def _slug(name):
    return "nav-" + "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete results labelled by the target admin's `autocomplete_label(obj)` when it
    has one (two Accounts of one name then read differently), else by str(obj)."""

    def serialize_result(self, obj, to_field_name):
        label = getattr(self.model_admin, "autocomplete_label", str)
        return {"id": str(getattr(obj, to_field_name)), "text": label(obj)}


class CrmbridgeAdminSite(admin.AdminSite):
    site_header = "crmbridge control panel"
    site_title = "crmbridge"
    index_title = "Control panel"
    index_template = "admin/crmbridge_index.html"
    login_form = two_factor.LoginForm
    login_template = "admin/crmbridge/login.html"

    def has_permission(self, request):
        # A user with a confirmed device is in only through a session that typed its code.
        return super().has_permission(request) and two_factor.session_verified(request.user)

    def admin_view(self, view, cacheable=False):
        """Every control-panel page (lists, history, export, autocomplete, API token pages):
        an Admin who must enrol in two-factor authentication is sent to enrol first."""
        wrapped = super().admin_view(view, cacheable)
        if getattr(view, "two_factor_exempt", False) or view == self.logout:
            return wrapped

        @functools.wraps(view)
        def inner(request, *args, **kwargs):
            if request.user.is_authenticated and two_factor.must_enrol(request.user):
                return redirect("admin:two_factor")
            return wrapped(request, *args, **kwargs)

        return inner

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "attention_items": items_for(request)}
        return super().index(request, extra_context)

    def autocomplete_view(self, request):
        return LabelledAutocompleteJsonView.as_view(admin_site=self)(request)

    def get_urls(self):
        # The OAuth callback registered in the Salesforce connected app: a short, stable URL.
        def callback(request):
            model = apps.get_model("crmbridge", "SalesforceConnection")
            return self._registry[model].callback_view(request)

        def enrol(request):
            return two_factor.enrol_view(self, request)

        enrol.two_factor_exempt = True
        return [
            path("two-factor/", self.admin_view(enrol), name="two_factor"),
            path(
                "audit/", self.admin_view(lambda request: audit_view(self, request)), name="audit"
            ),
            path(
                "salesforce/connection/callback/",
                self.admin_view(callback),
                name="salesforce_connection_callback",
            ),
            *super().get_urls(),
        ]

    def get_app_list(self, request, app_label=None):
        """Sections by task (home page and sidebar); an app's own page keeps Django's list."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        visible = {
            (app, entry["object_name"]): entry
            for app, app_dict in self._build_app_dict(request).items()
            for entry in app_dict["models"]
        }
        placed, sections = set(), []
        for name, entries in NAVIGATION:
            models = []
            for entry in entries:
                if isinstance(entry, Page):
                    if entry.of in visible and (
                        not entry.admins_only or has_role(request.user, ADMIN)
                    ):
                        models.append(self._page_entry(entry))
                elif entry in visible:
                    models.append(visible[entry])
                    placed.add(entry)
            if models:
                sections.append(self._section(name, models))
        rest = [entry for key, entry in visible.items() if key not in placed]
        if rest and has_role(request.user, ADMIN):
            rest.sort(key=lambda entry: str(entry["name"]).lower())
            sections.append(self._section(SYSTEM, rest, collapsed=True))
        return sections

    @staticmethod
    def _page_entry(page):
        return {
            "name": page.name,
            "object_name": _slug(page.name),
            "admin_url": reverse(page.url_name),
            "add_url": None,
            "view_only": True,
            "perms": {},
        }

    @staticmethod
    def _section(name, models, *, collapsed=False):
        return {
            "name": name,
            "app_label": _slug(name),
            "app_url": "",
            "has_module_perms": True,
            "models": models,
            "collapsed": collapsed,
            "is_section": True,
        }
