"""Activities (e-mails, meetings, calls), their participants, and how each was matched."""

from django.conf import settings
from django.db import models


class Activity(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        MEETING = "meeting", "Meeting"
        CALL = "call", "Call"

    class MatchStatus(models.TextChoices):
        PENDING = "pending", "Not matched yet"
        MATCHED = "matched", "Matched"
        UNMATCHED = "unmatched", "Unmatched"
        AMBIGUOUS = "ambiguous", "Ambiguous"
        INTERNAL = "internal", "Internal only"

    source = models.CharField(max_length=40, default="api")
    external_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities"
    )
    owner_sf_user = models.ForeignKey(
        "accounts.SalesforceUser",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)

    match_status = models.CharField(
        max_length=10, choices=MatchStatus.choices, default=MatchStatus.PENDING
    )
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    opportunity = models.ForeignKey(
        "accounts.Opportunity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    match_reason_code = models.CharField(max_length=50, blank=True)
    match_reason = models.TextField(blank=True)
    match_edited = models.BooleanField(
        default=False, help_text="Set by Edit match: re-matching keeps the person's choice."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="activity_source_ext_id"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-occurred_at"], name="activity_owner_time_idx"),
            models.Index(fields=["match_status", "-occurred_at"], name="activity_status_time_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="activity_time_idx"),
        ]

    def __str__(self):
        return self.subject or f"{self.get_kind_display()} {self.external_id}"


class Participant(models.Model):
    class Role(models.TextChoices):
        FROM = "from", "From"
        TO = "to", "To"
        CC = "cc", "Cc"
        ATTENDEE = "attendee", "Attendee"

    class MatchedKind(models.TextChoices):
        NONE = "", "Nothing"
        CONTACT = "contact", "Contact"
        LEAD = "lead", "Lead"
        ACCOUNT = "account", "Account"

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="participants")
    email = models.EmailField(max_length=254, db_index=True)
    name = models.CharField(max_length=255, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.TO)
    title = models.CharField(max_length=128, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=80, blank=True)
    domain = models.CharField(max_length=253, blank=True, db_index=True)
    is_internal = models.BooleanField(default=False)

    matched_kind = models.CharField(
        max_length=10, choices=MatchedKind.choices, default=MatchedKind.NONE, blank=True
    )
    match_rule = models.CharField(
        max_length=40, blank=True, help_text="Which rule matched, e.g. contact_email, domain."
    )
    match_reason = models.TextField(blank=True, help_text="What was tried and why, in words.")
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(
        "accounts.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "email"], name="participant_unique"),
        ]

    def __str__(self):
        return self.email


class MatchEdit(models.Model):
    """A person's change of an activity's match ("Edit match"): who, when, before and after."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="match_edits")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    added_domain = models.CharField(
        max_length=253, blank=True, help_text="Domain also added to the Account, if any."
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Match of {self.activity_id} edited by {self.user}"
