"""What crmbridge owes Salesforce: the outbox of pending writes."""

from django.db import models


class OutboxItem(models.Model):
    """One record and change to write to Salesforce, written in the same transaction as the
    local change. Pushed by upsert on `Crmbridge_Id__c` (or update/delete by Id), so sending a
    row twice has the effect of sending it once.

    `payload` holds Salesforce field names. A parent that has no Salesforce Id yet is referenced
    by its external id, as Salesforce allows: {"Account": {"Crmbridge_Id__c": "..."}}.
    """

    class Operation(models.TextChoices):
        UPSERT = "upsert", "Upsert by Crmbridge_Id__c"
        UPDATE = "update", "Update by Salesforce Id"
        DELETE = "delete", "Delete by Salesforce Id"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed: needs an admin"

    # Parents before children: a lower stage is pushed first.
    STAGES = {"Account": 0, "Contact": 1, "Lead": 1, "Opportunity": 2}
    CHILD_STAGE = 3  # Task, Event, OpportunityContactRole

    sobject = models.CharField(max_length=40)
    operation = models.CharField(max_length=10, choices=Operation.choices)
    crmbridge_id = models.CharField(max_length=32, blank=True)  # outbox_crmbridge_id_idx
    sf_id = models.CharField(max_length=18, blank=True)
    payload = models.JSONField(default=dict)
    stage = models.PositiveSmallIntegerField(default=CHILD_STAGE)
    # The mirror row to write the Salesforce Id back to, as "app_label.model:pk".
    local_ref = models.CharField(max_length=80, blank=True)

    # Not indexed alone: outbox_pending_idx starts with it, and an extra index is written
    # on every claim and every sent mark.
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outbox item"
        indexes = [
            models.Index(fields=["state", "stage", "id"], name="outbox_pending_idx"),
            # Equality lookups only: db_index=True would add an unused pattern-ops copy.
            models.Index(fields=["crmbridge_id"], name="outbox_crmbridge_id_idx"),
        ]

    def __str__(self):
        return f"{self.operation} {self.sobject} {self.crmbridge_id or self.sf_id}"

    @classmethod
    def stage_for(cls, sobject):
        return cls.STAGES.get(sobject, cls.CHILD_STAGE)
