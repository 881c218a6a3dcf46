"""Activities (e-mails, meetings, calls), their participants, and how each was matched."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


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
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="A meeting's end: its Event gets the real duration."
    )
    # Not indexed alone: activity_owner_time_idx starts with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,
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
        ORGANIZER = "organizer", "Organizer"

    class Response(models.TextChoices):
        NONE = "", "Not known"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        TENTATIVE = "tentative", "Tentative"
        NEEDS_ACTION = "needs-action", "Not answered"

    class MatchedKind(models.TextChoices):
        NONE = "", "Nothing"
        CONTACT = "contact", "Contact"
        LEAD = "lead", "Lead"
        ACCOUNT = "account", "Account"

    # Not indexed alone: participant_unique (activity, email) starts with it.
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="participants", db_index=False
    )
    # Looked up through the lower(email) index below; a plain index would only slow inserts.
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=255, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.TO)
    title = models.CharField(max_length=128, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=80, blank=True)
    response = models.CharField(
        max_length=12,
        choices=Response.choices,
        blank=True,
        help_text="A meeting attendee's answer to the invitation.",
    )
    domain = models.CharField(max_length=253, blank=True)  # participant_domain_idx
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
        indexes = [
            # The feed's search by a participant's address (any case).
            models.Index(Lower("email"), name="participant_email_lower_idx"),
            # Re-matching finds participants by domain (equality only: no pattern-ops copy).
            models.Index(fields=["domain"], name="participant_domain_idx"),
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


class ContactDecision(models.Model):
    """Why a Contact (or Lead) was or was not created for one participant: every gate, in order,
    passed or failed, with a code and words (the answer to "why no contact?")."""

    class Outcome(models.TextChoices):
        CREATED_CONTACT = "created_contact", "Contact created"
        CREATED_LEAD = "created_lead", "Lead created"
        EXISTING_CONTACT = "existing_contact", "Contact already exists"
        EXISTING_LEAD = "existing_lead", "Lead already exists"
        NOT_CREATED = "not_created", "Not created"

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="contact_decision"
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="contact_decisions"
    )
    email = models.EmailField(max_length=254)  # contactdecision_email_idx starts with it
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    # [{"code": "missing_last_name", "passed": false, "detail": {"field": "last_name"}}, ...]:
    # decisions.check_message says each in words (older rows also store it as "message").
    checks = models.JSONField(default=list, blank=True)
    profile_name = models.CharField(max_length=100, blank=True)
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(
        "accounts.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["email", "-decided_at"], name="contactdecision_email_idx")]

    def __str__(self):
        return f"{self.email}: {self.get_outcome_display()}"

    @property
    def failed_codes(self):
        return [c["code"] for c in self.checks if not c["passed"]]


class ActivityLog(models.Model):
    """An activity logged on one person in Salesforce (a Task, or an Event for a meeting): at most
    one per activity and person, however often the activity arrives. `crmbridge_id` is the
    Task's / Event's Crmbridge_Id__c."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="logs")
    sobject = models.CharField(max_length=10)  # "Task" or "Event"
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        "accounts.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Unique through Meta.constraints: unique=True would add a pattern-ops copy of each index
    # on PostgreSQL, which no query uses and every insert writes.
    crmbridge_id = models.CharField(max_length=32)
    sf_id = models.CharField("Salesforce Id", max_length=18, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["crmbridge_id"], name="activitylog_crmbridge_id_unique"
            ),
            models.UniqueConstraint(fields=["sf_id"], name="activitylog_sf_id_unique"),
            models.UniqueConstraint(
                fields=["activity", "contact"],
                condition=models.Q(contact__isnull=False),
                name="activitylog_contact_once",
            ),
            models.UniqueConstraint(
                fields=["activity", "lead"],
                condition=models.Q(lead__isnull=False),
                name="activitylog_lead_once",
            ),
            models.CheckConstraint(
                condition=models.Q(contact__isnull=True) ^ models.Q(lead__isnull=True),
                name="activitylog_one_person",
            ),
        ]

    def __str__(self):
        return f"{self.sobject} for {self.contact or self.lead} on {self.activity_id}"


class ContactAttributeChange(models.Model):
    """One field of an existing Contact that crmbridge updated from an activity."""

    contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.CASCADE, related_name="attribute_changes"
    )
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field = models.CharField(max_length=40)
    old_value = models.TextField(blank=True, null=True)
    new_value = models.TextField(blank=True, null=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.contact_id}.{self.field}: {self.old_value!r} -> {self.new_value!r}"
