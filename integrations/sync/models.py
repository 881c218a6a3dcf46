"""What the sync with Salesforce keeps: runs, watermarks, conflicts, its lock and its settings.

The outbox of pending writes is `integrations.models.OutboxItem`; this app pushes it.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from crmbridge.models import SingletonModel


class SyncRun(models.Model):
    """One pull, push or both: what it did, what it cost, and why it stopped."""

    class Kind(models.TextChoices):
        FULL = "full", "Full pull and push"
        SYNC = "sync", "Pull and push"
        PULL = "pull", "Pull"
        PUSH = "push", "Push"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        SOON = "soon", "New outbox work"
        ADMIN = "admin", "Sync now (admin)"
        API = "api", "API"
        COMMAND = "command", "Command line"
        DEMO = "demo", "Demo"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Finished with record errors"
        BUDGET = "budget", "Stopped: API budget reached"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped: another run was in progress"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SYNC)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.RUNNING, db_index=True
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"Contact": {"pulled": 3, "deleted": 1, "pushed": 2, "failed": 0, "conflicts": 0}, ...}
    counts = models.JSONField(default=dict, blank=True)
    api_calls = models.PositiveIntegerField(default=0)
    progress = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True, help_text="Why the run stopped, when it did.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["state", "-started_at"], name="syncrun_state_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display()})"

    def total(self, key):
        return sum(per.get(key, 0) for per in (self.counts or {}).values())

    @property
    def total_pulled(self):
        return self.total("pulled")

    @property
    def total_pushed(self):
        return self.total("pushed")

    @property
    def total_failed(self):
        return self.total("failed")

    @property
    def is_running(self):
        return self.state == self.State.RUNNING


class SyncRunError(models.Model):
    """One record a run could not pull or push, with Salesforce's message."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="errors")
    direction = models.CharField(max_length=4, choices=[("pull", "Pull"), ("push", "Push")])
    sobject = models.CharField(max_length=40)
    record = models.CharField(max_length=64, blank=True, help_text="Salesforce or crmbridge id.")
    outbox_item = models.ForeignKey(
        "integrations.OutboxItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    error_code = models.CharField(max_length=60, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.sobject} {self.record}: {self.error_code}"


class Watermark(models.Model):
    """Per object: every change up to `modstamp` (less the overlap window) has been pulled."""

    sobject = models.CharField(max_length=40, unique=True)
    modstamp = models.DateTimeField(
        null=True, blank=True, help_text="Highest SystemModstamp pulled by a successful run."
    )
    deleted_until = models.DateTimeField(
        null=True, blank=True, help_text="Deletions are known up to here."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.sobject} @ {self.modstamp}"


class Conflict(models.Model):
    """A field changed in Salesforce and in crmbridge since the last sync, and who won."""

    class Winner(models.TextChoices):
        SALESFORCE = "salesforce", "Salesforce"
        CRMBRIDGE = "crmbridge", "crmbridge (field owned by crmbridge)"
        ADDRESS_BOOK = "address_book", "The rep's address book (its change was newer)"

    run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="conflicts"
    )
    sobject = models.CharField(max_length=40)
    sf_id = models.CharField(max_length=18)
    field = models.CharField(max_length=60)
    local_value = models.TextField(blank=True, null=True)
    salesforce_value = models.TextField(blank=True, null=True)
    winner = models.CharField(max_length=12, choices=Winner.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.sobject} {self.sf_id}.{self.field}: {self.winner} won"


class SyncLock(models.Model):
    """At most one run at a time. A lock past `expires_at` belongs to a dead worker and may be
    taken over; a live run extends it as it progresses."""

    name = models.CharField(max_length=40, unique=True)
    holder = models.CharField(max_length=64, blank=True)
    run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} held by {self.holder or 'nobody'}"


class SyncSettings(SingletonModel):
    """How deletions travel between Salesforce and crmbridge: one row, pk 1."""

    class OnSalesforceDelete(models.TextChoices):
        MARK = "mark", "Keep it here, marked deleted"
        DELETE = "delete", "Delete it here"

    class OnLocalContactDelete(models.TextChoices):
        LEAVE = "leave", "Leave it in Salesforce"
        DELETE = "delete", "Delete it in Salesforce"

    on_salesforce_delete = models.CharField(
        max_length=10,
        choices=OnSalesforceDelete.choices,
        default=OnSalesforceDelete.MARK,
        help_text="When a record is deleted in Salesforce.",
    )
    on_local_contact_delete = models.CharField(
        max_length=10,
        choices=OnLocalContactDelete.choices,
        default=OnLocalContactDelete.LEAVE,
        help_text="When a Contact crmbridge created is deleted in crmbridge.",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "sync settings"
        verbose_name_plural = "sync settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="syncsettings_single_row"),
        ]

    def __str__(self):
        return "Sync settings"


class PulledValues(models.Model):
    """The field values of a record as Salesforce last gave them: the base against which a
    conflict is judged field by field (Salesforce changed a field when its value differs from
    this; crmbridge changed it when the field waits in the outbox)."""

    sobject = models.CharField(max_length=40)
    sf_id = models.CharField(max_length=18)
    values = models.JSONField(default=dict)

    class Meta:
        verbose_name_plural = "pulled values"
        # Not unique=True: that adds a _like index copy no lookup uses (see accounts.models).
        constraints = [
            models.UniqueConstraint(fields=["sf_id"], name="sync_pulledvalues_sf_id_key")
        ]

    def __str__(self):
        return f"{self.sobject} {self.sf_id}"
