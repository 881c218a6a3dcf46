"""One sync of one address book with the Salesforce mirror, both ways.

Reads the server's changes since the last sync-token (RFC 6578; by ETags where the server has
no sync-collection), then the cards that changed on either side in a few multiget REPORTs,
then per card: a three-way merge against what both sides had last time (vcards.merge). What
the rep changed goes to Salesforce through the mirror's services (and so the outbox); what
Salesforce changed is written to the card by ETag. Nothing changed: one REPORT, no writes.

Deletions: a card the rep deleted deletes its Contact in Salesforce when the sync settings'
"when a Contact is deleted in crmbridge" says so, and is put back otherwise; a Contact deleted
in Salesforce, or no longer in the address book's view, loses its card.
"""

from __future__ import annotations

import hashlib
import json
import logging
from urllib.parse import urljoin

from django.db import transaction
from django.utils import timezone

from accounts.models import Contact
from accounts.selectors import account_for_company_name
from accounts.services import contact_create, contact_delete, contact_update
from activities.matching import match_participant
from activities.services import match_context_for
from integrations.sync.models import Conflict, SyncSettings

from . import vcards
from .carddav import (
    CardDavClient,
    CardDavError,
    Changes,
    PreconditionFailed,
    SyncTokenInvalid,
)
from .models import AddressBook, AddressBookCard, AddressBookRun
from .selectors import contacts_in_view, salesforce_user_of

log = logging.getLogger(__name__)

TO_BOOK, TO_SF = "to_address_book", "to_salesforce"
SF_FIELD = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "phone": "Phone",
    "title": "Title",
    "department": "Department",
    "company": "Account",
    "country": "MailingCountry",
}
SAVE_BATCH = 500
# Status codes of a server that does not do sync-collection (or not on this collection).
NO_SYNC_REPORT = (400, 403, 405, 409, 415, 501)


def contact_values(contact: Contact) -> dict:
    values = {name: getattr(contact, name, "") or "" for name in vcards.FIELDS if name != "company"}
    values["email"] = values["email"].lower()
    values["company"] = contact.account.name if contact.account_id else ""
    return values


def _digest(contact: Contact) -> str:
    raw = json.dumps([contact_values(contact), contact.sf_id or ""], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _fit(values: dict) -> dict:
    """Card values cut to the mirror's column sizes (Salesforce's field lengths)."""
    out = dict(values)
    for name in vcards.FIELDS:
        if name in ("company", "department"):
            continue
        limit = Contact._meta.get_field(name).max_length
        out[name] = (out.get(name) or "")[:limit]
    return out


class AddressBookSync:
    def __init__(self, *, address_book: AddressBook, run: AddressBookRun, client=None):
        self.book = address_book
        self.run = run
        self.client = client or CardDavClient(
            address_book.url, address_book.username, address_book.secret or ""
        )
        self.now = timezone.now()
        keys = AddressBookRun.COUNT_KEYS
        self.counts = {TO_BOOK: dict.fromkeys(keys, 0), TO_SF: dict.fromkeys(keys, 0)}
        self.errors: list[dict] = []
        self.settings = SyncSettings.load()
        self.rep = salesforce_user_of(user=address_book.owner)
        self.dirty: dict[int, AddressBookCard] = {}
        self.new_rows: list[AddressBookCard] = []

    # -- the run ------------------------------------------------------------------------------
    def execute(self) -> None:
        collection = self._collection()
        rows = {r.href: r for r in AddressBookCard.objects.filter(address_book=self.book)}
        changes, full = self._changes(collection, rows)
        contacts = contacts_in_view(address_book=self.book)
        self.linked = {r.contact_id: r for r in rows.values() if r.contact_id}

        for href in changes.removed:
            row = rows.pop(href, None)
            if row is not None:
                self._card_removed(row, contacts)

        to_read = {
            href
            for href, etag in changes.changed.items()
            if href not in rows or not etag or rows[href].etag != etag
        }
        for row in rows.values():
            contact = contacts.get(row.contact_id)
            if contact is not None and _digest(contact) != row.contact_digest:
                to_read.add(row.href)
        fetched = self.client.multiget(collection, sorted(to_read)) if to_read else {}

        fresh = {}
        for href, (etag, text) in fetched.items():
            row = rows.get(href)
            if row is None:
                fresh[href] = (etag, text)
            elif row.contact_id in contacts:
                self._merge(row, contacts[row.contact_id], etag, text)
        self._new_cards(collection, fresh, rows, contacts)

        for row in list(rows.values()):
            if row.contact_id not in contacts:
                self._remove_card(row)
                rows.pop(row.href)
        for contact in contacts.values():
            if contact.pk not in self.linked:
                self._add_card(collection, contact)
        self._save_rows(force=True)
        AddressBook.objects.filter(pk=self.book.pk).update(
            sync_token=changes.token, last_synced_at=timezone.now(), last_error=""
        )

    # -- the collection and its changes -------------------------------------------------------
    def _collection(self) -> str:
        if self.book.collection_url:
            return self.book.collection_url
        home = self.client.home_url()
        books = self.client.address_books(home)
        given = self.client.base_url
        if given in books:
            url = given  # the URL given is the address book itself
        else:
            named = [url for url, name in books.items() if name == self.book.name]
            url = named[0] if named else self.client.address_book_create(home, self.book.name)
        AddressBook.objects.filter(pk=self.book.pk).update(collection_url=url, sync_token="")
        self.book.collection_url, self.book.sync_token = url, ""
        return url

    def _changes(self, collection, rows):
        token = self.book.sync_token
        try:
            try:
                changes = self.client.sync_collection(collection, token)
            except SyncTokenInvalid:
                token = ""
                changes = self.client.sync_collection(collection, "")
        except CardDavError as exc:
            if exc.status not in NO_SYNC_REPORT:
                raise
            # No sync-collection here: compare every card's ETag with what we know.
            token = ""
            changes = Changes(changed=self.client.etags(collection))
        if not token:
            changes.removed = set(rows) - set(changes.changed)
        return changes, not token

    # -- one card -----------------------------------------------------------------------------
    def _count(self, direction, key, n=1):
        self.counts[direction][key] += n

    def _error(self, direction, href, message):
        self._count(direction, "errors")
        self.errors.append({"direction": direction, "card": href[-200:], "message": message})

    def _card_removed(self, row, contacts):
        contact = contacts.get(row.contact_id)
        if contact is None:
            row.delete()
            return
        allowed = SyncSettings.OnLocalContactDelete.DELETE
        if self.settings.on_local_contact_delete == allowed:
            pk = contact.pk
            with transaction.atomic():
                row.delete()
                contact_delete(contact=contact, delete_in_salesforce=True)
            contacts.pop(pk)
            self.linked.pop(pk, None)
            self._count(TO_SF, "deleted")
            return
        values = contact_values(contact)
        try:
            etag = self.client.put(row.href, self._render(row.uid, contact, values))
        except CardDavError as exc:
            self._error(TO_BOOK, row.href, str(exc))
            return
        self._remember(row, contact, values, etag)
        self._count(TO_BOOK, "restored")

    def _render(self, uid, contact, values, existing=None):
        return vcards.card_render(
            values=values, uid=uid, sf_id=contact.sf_id or "", existing=existing, now=self.now
        )

    def _remember(self, row, contact, base, etag):
        row.base, row.etag, row.synced_at = base, etag or "", self.now
        row.contact = contact
        row.contact_digest = _digest(contact)
        if row.pk is None:
            self.new_rows.append(row)
        else:
            self.dirty[row.pk] = row
        self.linked[contact.pk] = row
        self._save_rows()

    def _merge(self, row, contact, etag, text, base=None):
        try:
            card = vcards.card_parse(text)
        except vcards.InvalidCard as exc:
            self._error(TO_SF, row.href, f"The card cannot be read: {exc}")
            return
        ours = contact_values(contact)
        theirs = _fit(vcards.card_values(card))
        card_changed_at = vcards.card_revision(card) or self.now
        merged, conflicts = vcards.merge(
            base=row.base if base is None else base,
            contact=ours,
            card=theirs,
            card_is_newer=card_changed_at > contact.local_modified_at,
        )
        for conflict in conflicts:
            self._conflict(contact, conflict)
        editable = {
            k: v for k, v in merged.items() if k not in vcards.SALESFORCE_ONLY and v != ours[k]
        }
        if editable and contact_update(contact=contact, values=editable):
            self._count(TO_SF, "updated")
        if merged != theirs or vcards.card_salesforce_id(card) != (contact.sf_id or ""):
            try:
                etag = self.client.put(
                    row.href, self._render(row.uid, contact, merged, card), etag=etag
                )
            except PreconditionFailed:
                # The rep changed it again meanwhile: the next run reads it (its ETag differs).
                self._remember(row, contact, row.base if base is None else base, "")
                return
            except CardDavError as exc:
                self._error(TO_BOOK, row.href, str(exc))
                return
            self._count(TO_BOOK, "updated")
        self._remember(row, contact, merged, etag)

    def _conflict(self, contact, conflict: vcards.FieldConflict):
        winner = Conflict.Winner.ADDRESS_BOOK if conflict.card_won else Conflict.Winner.SALESFORCE
        Conflict.objects.create(
            sobject="Contact",
            sf_id=contact.sf_id or "",
            field=SF_FIELD[conflict.field],
            local_value=conflict.card_value,
            salesforce_value=conflict.contact_value,
            winner=winner,
        )
        self._count(TO_SF if conflict.card_won else TO_BOOK, "conflicts")

    def _remove_card(self, row):
        try:
            try:
                self.client.delete(row.href, etag=row.etag or None)
            except PreconditionFailed:
                self.client.delete(row.href)  # edited by the rep, but its Contact is gone
        except CardDavError as exc:
            self._error(TO_BOOK, row.href, str(exc))
            return
        self.dirty.pop(row.pk, None)
        row.delete()
        self._count(TO_BOOK, "deleted")

    def _add_card(self, collection, contact):
        uid = contact.sf_id or contact.crmbridge_id or f"crmbridge-contact-{contact.pk}"
        href = urljoin(collection, f"{uid}.vcf")
        row = AddressBookCard(
            address_book=self.book, href=href, uid=uid, origin=AddressBookCard.Origin.SALESFORCE
        )
        values = contact_values(contact)
        try:
            etag = self.client.put(href, self._render(uid, contact, values))
        except PreconditionFailed:
            # The card is there already (a run stopped before it noted it): take it as it is.
            for etag, text in self.client.multiget(collection, [href]).values():
                self._merge(row, contact, etag, text, base=values)
            return
        except CardDavError as exc:
            self._error(TO_BOOK, href, str(exc))
            return
        self._remember(row, contact, values, etag)
        self._count(TO_BOOK, "created")

    # -- cards the rep added ------------------------------------------------------------------
    def _new_cards(self, collection, fresh, rows, contacts):
        parsed = {}
        for href, (etag, text) in fresh.items():
            try:
                parsed[href] = (etag, vcards.card_parse(text), text)
            except vcards.InvalidCard as exc:
                self._error(TO_SF, href, f"The card cannot be read: {exc}")
        emails = {vcards.card_values(card)["email"] for _, card, _ in parsed.values()} - {""}
        context = match_context_for(emails=emails) if emails else None
        by_sf_id = {c.sf_id: c for c in contacts.values() if c.sf_id}
        for href, (etag, card, text) in parsed.items():
            values = _fit(vcards.card_values(card))
            row = AddressBookCard(
                address_book=self.book,
                href=href,
                uid=(vcards.card_uid(card) or href.rsplit("/", 1)[-1])[:255],
                origin=AddressBookCard.Origin.ADDRESS_BOOK,
            )
            known = by_sf_id.get(vcards.card_salesforce_id(card))
            match = None
            if known is None and values["email"]:
                match = match_participant(
                    values["email"],
                    owner_sf_user_id=self.rep.pk if self.rep else None,
                    ctx=context,
                )
                known = match.contact
            if known is not None:
                if known.pk in self.linked:
                    other = self.linked[known.pk].href.rsplit("/", 1)[-1]
                    self._error(TO_SF, href, f"Another card ({other}) is already {known}.")
                    continue
                if known.pk in contacts:
                    row.origin = AddressBookCard.Origin.SALESFORCE
                contacts[known.pk] = known
                rows[href] = row
                self._merge(row, known, etag, text, base=contact_values(known))
                continue
            if not values["last_name"]:
                self._error(TO_SF, href, "The card has no name; Salesforce needs a last name.")
                continue
            account = match.account if match is not None else None
            account = account or account_for_company_name(name=values["company"])
            with transaction.atomic():
                contact = contact_create(
                    first_name=values["first_name"],
                    last_name=values["last_name"],
                    email=values["email"],
                    account=account,
                    owner=self.rep,
                    title=values["title"],
                    phone=values["phone"],
                    country=values["country"],
                )
            contacts[contact.pk] = contact
            rows[href] = row
            self._remember(row, contact, values, etag)
            self._count(TO_SF, "created")

    # -- saving -------------------------------------------------------------------------------
    def _save_rows(self, force=False):
        if not force and len(self.new_rows) + len(self.dirty) < SAVE_BATCH:
            return
        if self.new_rows:
            AddressBookCard.objects.bulk_create(self.new_rows, batch_size=SAVE_BATCH)
            self.new_rows = []
        if self.dirty:
            AddressBookCard.objects.bulk_update(
                list(self.dirty.values()),
                ["base", "etag", "contact", "contact_digest", "synced_at"],
                batch_size=SAVE_BATCH,
            )
            self.dirty = {}
        AddressBookRun.objects.filter(pk=self.run.pk).update(
            counts=self.counts, requests=self.client.requests_made
        )
