"""The organisation: its one row of Global Settings, its Configuration Profiles, and how it
connects to Salesforce."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator, MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from integrations.salesforce import API_VERSION, FLOW_LABELS, PRODUCTION_LOGIN_URL, AuthFlow

from .crypto import EncryptedTextField

REQUIRED_FIELD_CHOICES = [("country", "Country"), ("title", "Title"), ("phone", "Phone")]


class CreateAs(models.TextChoices):
    CONTACT = "contact", "Contact"
    LEAD = "lead", "Lead"


def validate_required_fields(value):
    allowed = {key for key, _ in REQUIRED_FIELD_CHOICES}
    if not isinstance(value, list) or any(item not in allowed for item in value):
        raise ValidationError(
            "Choose any of: %(allowed)s.", params={"allowed": ", ".join(sorted(allowed))}
        )


_domain_name = DomainNameValidator()


def is_domain_name(item: str) -> bool:
    """A domain as written in the settings: `example.com`, `eu.example.co.uk` (no scheme, no @)."""
    if not item or "." not in item:
        return False
    try:
        _domain_name(item)
    except ValidationError:
        return False
    return True


def validate_domain_list(value):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Give a list of domains.")
    bad = [item for item in value if not is_domain_name(item)]
    if bad:
        raise ValidationError(
            "Not a domain: %(bad)s (write it like example.com).", params={"bad": ", ".join(bad)}
        )


def validate_exclusion_list(value):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Give a list of addresses and domains.")
    bad = [item for item in value if not item or " " in item or "." not in item.rsplit("@")[-1]]
    if bad:
        raise ValidationError(
            "Not an address or domain: %(bad)s (write jane@example.com or example.com).",
            params={"bad": ", ".join(bad)},
        )


class CaptureBody(models.TextChoices):
    NONE = "none", "None (subject and people only)"
    FIRST = "first", "First N characters"
    FULL = "full", "Full text"


class SingletonModel(models.Model):
    """A table of exactly one row (pk 1), read with `load()`; each subclass also declares a
    check constraint `pk = 1` so the database refuses a second row."""

    SINGLETON_PK = 1

    class Meta:
        abstract = True

    @classmethod
    def load(cls):
        obj, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return obj


class GlobalSettings(SingletonModel):
    """The organisation's settings: exactly one row, pk 1, read with `GlobalSettings.load()`."""

    contact_creation_enabled = models.BooleanField(
        default=True,
        help_text="Create Contacts for people reps talk to. Each rep's profile must allow it too.",
    )
    create_as = models.CharField(
        max_length=10,
        choices=CreateAs.choices,
        default=CreateAs.CONTACT,
        help_text="Organisations that do not use Leads create Contacts.",
    )
    required_contact_fields = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_required_fields],
        help_text="Besides first name, last name and e-mail: any of country, title, phone.",
    )
    internal_domains = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_domain_list],
        help_text="The company's own e-mail domains; their participants are set aside.",
    )
    extra_personal_domains = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_domain_list],
        help_text="Personal mail domains besides the built-in list (gmail.com, outlook.com, ...).",
    )
    auto_attribute_updates = models.BooleanField(
        default=False,
        help_text="Update existing Contacts with a newer title, phone, department or seniority.",
    )
    sync_interval_minutes = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="How often crmbridge and Salesforce are synchronised.",
    )
    api_budget_percent = models.PositiveIntegerField(
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of the org's daily Salesforce API limit crmbridge may use.",
    )

    capture_body = models.CharField(
        max_length=10,
        choices=CaptureBody.choices,
        default=CaptureBody.FIRST,
        help_text="How much of a captured e-mail's text is kept (attachments never are).",
    )
    capture_body_chars = models.PositiveIntegerField(
        default=2000,
        validators=[MinValueValidator(1), MaxValueValidator(32000)],
        help_text="With 'first N characters': how many.",
    )
    capture_exclusions = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_exclusion_list],
        help_text="Addresses (jane@example.com) and domains (example.com) capture skips.",
    )
    two_factor_required_for_admins = models.BooleanField(
        "require two-factor authentication for Admins",
        default=False,
        help_text="Admins without an authenticator app must enrol before using the control "
        "panel (and before creating API tokens).",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "Global Settings"
        verbose_name_plural = "Global Settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="globalsettings_single_row"),
        ]

    def __str__(self):
        return "Global Settings"


class ConfigurationProfile(models.Model):
    """Per-team settings. A user has at most one; without one, the default profile applies."""

    name = models.CharField(max_length=100, unique=True)
    contact_creation_enabled = models.BooleanField(
        default=True,
        help_text="Contact creation needs this and the global switch both on.",
    )
    is_default = models.BooleanField(
        default=False, help_text="Applies to every user who is not a member of another profile."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="ProfileMembership",
        related_name="configuration_profiles",
        blank=True,
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_configuration_profile",
                violation_error_message="Another profile is already the default.",
            ),
        ]

    def __str__(self):
        return self.name


class ProfileMembership(models.Model):
    """A user's one profile: the OneToOne key is what makes "at most one profile" hold."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile_membership"
    )
    profile = models.ForeignKey(
        ConfigurationProfile, on_delete=models.CASCADE, related_name="memberships"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "profile member"

    def __str__(self):
        return f"{self.user} in {self.profile}"


class SalesforceConnection(SingletonModel):
    """How crmbridge signs in to the org, set by an Admin on the Salesforce connection page.
    Secrets and tokens are encrypted at rest and never shown again; SALESFORCE_* environment
    variables win over every field (crmbridge/salesforce_connection.py merges the two)."""

    FLOW_CHOICES = [(f.value, FLOW_LABELS[f]) for f in AuthFlow]
    SECRET_FIELDS = ("consumer_secret", "private_key", "password", "refresh_token", "access_token")

    flow = models.CharField(max_length=20, choices=FLOW_CHOICES, default=AuthFlow.WEB_SERVER.value)
    login_url = models.CharField(
        "login URL",
        max_length=200,
        default=PRODUCTION_LOGIN_URL,
        help_text="https://login.salesforce.com (production), https://test.salesforce.com "
        "(sandbox) or the org's My Domain, https://<name>.my.salesforce.com.",
    )
    consumer_key = models.CharField(max_length=255, blank=True)
    username = models.CharField(
        max_length=255, blank=True, help_text="JWT bearer: the user crmbridge acts as."
    )
    api_version = models.CharField("API version", max_length=6, default=API_VERSION)
    consumer_secret = EncryptedTextField(blank=True)
    private_key = EncryptedTextField(blank=True)
    password = EncryptedTextField(blank=True, help_text="Legacy: password + security token.")
    refresh_token = EncryptedTextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    instance_url = models.CharField(max_length=200, blank=True)
    connected_as = models.CharField(max_length=255, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    reconnect_required = models.BooleanField(default=False)
    problem = models.CharField(max_length=500, blank=True)
    # What the org last said to any process (a sync runs in a worker, not in the web server):
    # the connection page and the sync dashboard show it until this process has its own answer.
    last_answer_at = models.DateTimeField(null=True, blank=True)
    last_instance_url = models.CharField(max_length=200, blank=True)
    api_used = models.PositiveIntegerField(null=True, blank=True)
    api_max = models.PositiveIntegerField(null=True, blank=True)

    HEARD_FIELDS = ("last_answer_at", "last_instance_url", "api_used", "api_max")
    history = HistoricalRecords(
        excluded_fields=[
            *SECRET_FIELDS,
            *HEARD_FIELDS,
            "instance_url",
            "problem",
            "reconnect_required",
        ]
    )

    class Meta:
        verbose_name = "Salesforce connection"
        verbose_name_plural = "Salesforce connection"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1), name="salesforceconnection_single_row"
            ),
        ]

    def __str__(self):
        return "Salesforce connection"
