"""The organisation: its one row of Global Settings and its Configuration Profiles."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

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


def validate_domain_list(value):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Give a list of domains.")
    bad = [item for item in value if not item or " " in item or "." not in item or "@" in item]
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
