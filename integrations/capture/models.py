"""Capture sources (a rep's mailbox, calendar, ICS feed or folder), their runs, and what each
source has already seen (so a run reads only what is new or changed)."""

from django.conf import settings
from django.db import models

from crmbridge.crypto import EncryptedTextField


class CaptureSource(models.Model):
    class Kind(models.TextChoices):
        IMAP = "imap", "IMAP mailbox"
        CALDAV = "caldav", "CalDAV calendars"
        ICS_URL = "ics_url", "ICS feed URL"
        FOLDER = "folder", "Folder of .eml / .mbox / .ics files"

    class Security(models.TextChoices):
        SSL = "ssl", "SSL/TLS"
        STARTTLS = "starttls", "STARTTLS"
        NONE = "none", "None (local servers only)"

    class Auth(models.TextChoices):
        PASSWORD = "password", "Password"
        XOAUTH2 = "xoauth2", "XOAUTH2 (Gmail, Microsoft 365)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="capture_sources"
    )
    name = models.CharField(max_length=100, blank=True)
    host = models.CharField(max_length=253, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    username = models.CharField(max_length=254, blank=True)
    auth = models.CharField(max_length=10, choices=Auth.choices, default=Auth.PASSWORD)
    secret = EncryptedTextField(
        blank=True, help_text="Password, or the OAuth2 refresh token (XOAUTH2); never shown again."
    )
    oauth_client_id = models.CharField(max_length=500, blank=True)
    oauth_client_secret = EncryptedTextField(blank=True, help_text="Never shown again.")
    oauth_token_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Token endpoint, e.g. Google https://oauth2.googleapis.com/token, Microsoft"
        " https://login.microsoftonline.com/common/oauth2/v2.0/token",
    )
    # The access token last obtained for the refresh token, reused until shortly before expiry.
    oauth_access_token = EncryptedTextField(blank=True, editable=False)
    oauth_access_expires = models.DateTimeField(null=True, blank=True, editable=False)
    folders = models.JSONField(
        default=list, blank=True, help_text="IMAP folders; empty: INBOX and Sent."
    )
    url = models.URLField(max_length=1000, blank=True)
    path = models.CharField(max_length=1000, blank=True)
    enabled = models.BooleanField(default=True)
    backfill_days = models.PositiveIntegerField(default=90)
    # Watermarks: IMAP {folder: {uidvalidity, last_uid}}, ICS {etag, last_modified},
    # CalDAV {calendar url: sync token}.
    state = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)
    running_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner_id", "pk"]

    def __str__(self):
        return self.name or f"{self.get_kind_display()} of {self.owner.email}"


class CaptureRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(CaptureSource, on_delete=models.CASCADE, related_name="runs")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)
    captured = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    already_present = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)  # reason -> count
    errors = models.JSONField(default=list, blank=True)  # ["what went wrong, in words"]
    round_trips = models.PositiveIntegerField(
        default=0, help_text="Requests to the server (IMAP commands, HTTP requests)."
    )
    more_to_do = models.BooleanField(
        default=False, help_text="Stopped at the per-run limit; the next run resumes."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["source", "-id"], name="capturerun_source_idx")]

    def __str__(self):
        return f"Capture run {self.pk} of {self.source}"


class CapturedItem(models.Model):
    """One item a source has delivered: a file, or one occurrence of an event, with the
    fingerprint of what it said, so an unchanged item is passed over and a changed one updates
    its activity."""

    source = models.ForeignKey(CaptureSource, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    activity = models.ForeignKey(
        "activities.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="captureditem_source_key"),
        ]

    def __str__(self):
        return self.key
