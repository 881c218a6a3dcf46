"""Dialer result-code integrations: projects, integrations, result codes, mappings and runs.

A dialer project has integrations; each integration has an action and is triggered by one or more
result codes. Within a project a result code belongs to at most one integration: the
``ResultCode`` row carries the project so that a database constraint can say so.

A project's webhook secret is never stored: only its SHA-256 (the secret is 256 random bits, so a
fast hash is enough and lets the webhook find the project by it).
"""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from email_validator import EmailNotValidError, validate_email
from simple_history.models import HistoricalRecords

SECRET_PREFIX = "dlr_"


sf_field_name = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_]*$", "A Salesforce field API name, such as Email or Seniority__c."
)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class Action(models.TextChoices):
    UPDATE_ONLY = "update_only", "Update only (Lead or Contact)"
    UPDATE_OR_CREATE_LEAD = "update_or_create_lead", "Update, and create LEAD if no match found"
    UPDATE_OR_CREATE_CONTACT = (
        "update_or_create_contact",
        "Update, and create CONTACT if no match found",
    )
    UPDATE_CONVERT_OR_CREATE_CONTACT = (
        "update_convert_or_create_contact",
        "Update and CONVERT LEAD if Lead found, create CONTACT if no match",
    )


class SObjectName(models.TextChoices):
    LEAD = "Lead", "Lead"
    CONTACT = "Contact", "Contact"
    ACCOUNT = "Account", "Account"
    OPPORTUNITY = "Opportunity", "Opportunity"


class DialerProject(models.Model):
    name = models.CharField(max_length=120, unique=True)
    secret_hash = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the webhook secret."
    )
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not even the hash in the history: the audit trail says "secret changed" (crmbridge.audit).
    SECRET_FIELDS = ("secret_hash",)
    SECRET_LABELS = {"secret_hash": "webhook secret"}
    history = HistoricalRecords(excluded_fields=["secret_hash"])

    class Meta:
        ordering = ["name"]
        verbose_name = "dialer project"

    def __str__(self):
        return self.name


class Integration(models.Model):
    project = models.ForeignKey(
        DialerProject, on_delete=models.CASCADE, related_name="integrations"
    )
    name = models.CharField(max_length=120)
    action = models.CharField(max_length=40, choices=Action.choices)
    email_on_error = models.TextField(
        "Email on Error",
        blank=True,
        help_text="Who gets an e-mail when a run fails: addresses separated by commas or lines.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["project__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="dialer_integration_name_unique"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def recipients(self) -> list[str]:
        return [a for a in (p.strip() for p in self.email_on_error.replace("\n", ",").split(","))
                if a]  # fmt: skip

    def clean(self):
        clean, bad = [], []
        for address in self.recipients:
            try:
                clean.append(validate_email(address, check_deliverability=False).normalized)
            except EmailNotValidError:
                bad.append(address)
        if bad:
            raise ValidationError({"email_on_error": f"Not an e-mail address: {', '.join(bad)}"})
        self.email_on_error = ", ".join(dict.fromkeys(clean))


def result_code_normal(code) -> str:
    """Result codes do not depend on case: "cb", "Cb" and "CB" are one code, kept in capitals
    (dialers show them so), trimmed. Every write and every look-up goes through here."""
    return str(code or "").strip().upper()


class ResultCode(models.Model):
    """A result code that triggers an integration. ``project`` is the integration's project,
    stored here so the database can enforce one integration per code within a project.
    Stored normalised (result_code_normal): case does not matter."""

    project = models.ForeignKey(DialerProject, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="result_codes"
    )
    code = models.CharField(max_length=64)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "code"], name="dialer_result_code_unique_in_project"
            ),
        ]

    def __str__(self):
        return self.code


class SecondaryKey(models.Model):
    """A dialer field that must equal a Salesforce field for a record to match (all keys AND)."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="secondary_keys"
    )
    position = models.PositiveSmallIntegerField(default=0)
    dialer_field = models.CharField(max_length=80)
    salesforce_field = models.CharField(
        max_length=80, validators=[sf_field_name], help_text="On Lead and Contact."
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.dialer_field} = {self.salesforce_field}"


class FieldMapping(models.Model):
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="field_mappings"
    )
    dialer_field = models.CharField(max_length=80)
    sobject = models.CharField("object", max_length=20, choices=SObjectName.choices)
    salesforce_field = models.CharField(max_length=80, validators=[sf_field_name])

    class Meta:
        ordering = ["sobject", "salesforce_field"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "sobject", "salesforce_field"],
                name="dialer_mapping_one_source_per_field",
            ),
        ]

    def __str__(self):
        return f"{self.dialer_field} -> {self.sobject}.{self.salesforce_field}"


class CallRun(models.Model):
    """One call result received from the dialer and what crmbridge did with it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        NO_INTEGRATION = "no_integration", "No integration for this result code"

    project = models.ForeignKey(DialerProject, on_delete=models.CASCADE, related_name="runs")
    call_id = models.CharField(max_length=120)
    result_code = models.CharField(max_length=64)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    action = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict, help_text="The call's record as the dialer sent it.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    outcome = models.TextField(blank=True)
    salesforce_records = models.JSONField(
        default=list, blank=True, help_text='[{"object", "id", "operation"}] touched by the run.'
    )
    error = models.TextField(blank=True)
    emails_sent = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "dialer run"
        constraints = [
            models.UniqueConstraint(fields=["project", "call_id"], name="dialer_run_call_unique"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="dialer_run_status_idx")]

    def __str__(self):
        return f"call {self.call_id} ({self.result_code})"

    def external_id(self, sobject: str) -> str:
        """Crmbridge_Id__c of the record of `sobject` this run creates: the same on a retry."""
        return f"dialer-{self.pk}-{sobject.lower()}"
