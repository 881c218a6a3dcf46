"""Reps' CardDAV address books kept in two-way sync with their Salesforce Contacts.

An AddressBook is one rep's account on a CardDAV server and the one collection crmbridge keeps
there ("Salesforce Contacts" by default). An AddressBookCard links one card of it to one mirror
Contact and keeps the values both sides agreed on at the last sync: the base against which a
change on either side, and a conflict, is judged field by field.
"""

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models

from accounts.models import Account, Contact
from crmbridge.crypto import EncryptedTextField

DEFAULT_NAME = "Salesforce Contacts"
ONE_PER_OWNER = "This rep already has an address book."


class AddressBook(models.Model):
    class View(models.TextChoices):
        OWNED = "owned", "The rep's own Contacts (Salesforce owner)"
        MY_ACCOUNTS = "my_accounts", "The Contacts of the rep's Accounts"
        ACCOUNTS = "accounts", "The Contacts of chosen Accounts"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="address_books"
    )
    url = models.URLField(
        "server URL",
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="The CardDAV server (its .well-known/carddav is followed) or the address "
        "book's own URL.",
    )
    username = models.CharField(max_length=150)
    secret = EncryptedTextField(blank=True, help_text="The password or app password.")
    name = models.CharField(
        max_length=100, default=DEFAULT_NAME, help_text="The address book crmbridge keeps."
    )
    view = models.CharField(max_length=12, choices=View.choices, default=View.OWNED)
    accounts = models.ManyToManyField(
        Account, blank=True, related_name="+", help_text="For the 'chosen Accounts' view."
    )
    enabled = models.BooleanField(default=True)

    collection_url = models.URLField(max_length=500, blank=True, editable=False)
    sync_token = models.TextField(blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    # A run holds the book until then: two runs of one book never overlap.
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner__username", "pk"]
        constraints = [
            # One "Salesforce Contacts" book per rep: two would fight over the same Contacts.
            models.UniqueConstraint(
                fields=["owner"],
                name="one_address_book_per_owner",
                violation_error_message=ONE_PER_OWNER,
            )
        ]

    def __str__(self):
        return f"{self.name} of {self.owner}"


class AddressBookCard(models.Model):
    """One card crmbridge knows in an address book, and the Contact it stands for."""

    class Origin(models.TextChoices):
        SALESFORCE = "salesforce", "Salesforce"
        ADDRESS_BOOK = "address_book", "Added in the address book"

    address_book = models.ForeignKey(AddressBook, on_delete=models.CASCADE, related_name="cards")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    href = models.CharField(max_length=500)
    uid = models.CharField(max_length=255)
    etag = models.CharField(max_length=255, blank=True)
    origin = models.CharField(max_length=12, choices=Origin.choices, default=Origin.SALESFORCE)
    # The mapped values both sides had after the last sync (vcards.FIELDS).
    base = models.JSONField(default=dict)
    # A digest of the Contact's mapped values at the last sync: changed means Salesforce changed.
    contact_digest = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address_book", "href"], name="abcard_href_unique"),
            models.UniqueConstraint(
                fields=["address_book", "contact"],
                condition=models.Q(contact__isnull=False),
                name="abcard_contact_unique",
            ),
        ]

    def __str__(self):
        return self.uid


class AddressBookRun(models.Model):
    """One sync of one address book: counts both ways, requests made, and why it stopped."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Sync now (admin)"
        API = "api", "API"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Finished with card errors"
        FAILED = "failed", "Failed"

    COUNT_KEYS = ("created", "updated", "deleted", "restored", "conflicts", "errors")

    address_book = models.ForeignKey(AddressBook, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"to_address_book": {"created": 3, ...}, "to_salesforce": {"created": 1, ...}}
    counts = models.JSONField(default=dict, blank=True)
    requests = models.PositiveIntegerField(default=0, help_text="HTTP requests to the server.")
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Run #{self.pk} of {self.address_book} ({self.get_state_display()})"
