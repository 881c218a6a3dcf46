"""Writes of the address-book sync: address books, runs ("Sync now", the schedule), the
connection test. Keyword-only, `<entity>_<action>`."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from .carddav import CardDavAuthError, CardDavClient, CardDavError
from .models import ONE_PER_OWNER, AddressBook, AddressBookRun
from .sync import AddressBookSync

log = logging.getLogger(__name__)

LOCK_TTL = timedelta(minutes=20)
EDITABLE = ("owner", "url", "username", "secret", "name", "view", "enabled")


def address_book_of(*, owner, other_than: AddressBook | None = None) -> AddressBook | None:
    """The rep's address book (besides `other_than`), if they have one: a rep keeps one."""
    books = AddressBook.objects.filter(owner=owner)
    if other_than is not None and other_than.pk:
        books = books.exclude(pk=other_than.pk)
    return books.first()


def _save(book: AddressBook) -> None:
    book.full_clean()
    try:
        with transaction.atomic():
            book.save()
    except IntegrityError:
        # Two requests for one rep at once both passed full_clean: the constraint decides.
        if address_book_of(owner=book.owner, other_than=book):
            raise ValidationError({"owner": ONE_PER_OWNER}) from None
        raise


@transaction.atomic
def address_book_create(*, owner, url, username, secret="", accounts=(), **fields) -> AddressBook:
    book = AddressBook(owner=owner, url=url, username=username, secret=secret, **fields)
    _save(book)
    book.accounts.set(accounts)
    return book


@transaction.atomic
def address_book_update(*, address_book: AddressBook, changes: dict) -> AddressBook:
    """Apply `changes`. A new server, account or name starts over: the collection is found
    (or created) again and read in full."""
    accounts = changes.pop("accounts", None)
    if "secret" in changes and not changes["secret"]:
        changes.pop("secret")  # a blank secret field keeps the stored one
    moved = any(
        name in changes and changes[name] != getattr(address_book, name)
        for name in ("url", "username", "name")
    )
    for name, value in changes.items():
        setattr(address_book, name, value)
    if moved:
        address_book.collection_url, address_book.sync_token = "", ""
        address_book.cards.all().delete()
    _save(address_book)
    if accounts is not None:
        address_book.accounts.set(accounts)
    return address_book


def address_book_test_connection(*, address_book: AddressBook) -> tuple[bool, str]:
    """Sign in and look for the address book. Returns (ok, what happened in plain words)."""
    client = CardDavClient(address_book.url, address_book.username, address_book.secret or "")
    try:
        home = client.home_url()
        books = client.address_books(home)
    except CardDavError as exc:
        return False, str(exc)
    if client.base_url in books or address_book.name in books.values():
        return True, f"Connected; the address book {address_book.name!r} is there."
    return True, (
        f"Connected ({len(books)} address books); {address_book.name!r} will be created at "
        "the first sync."
    )


def address_book_run_request(*, address_book, trigger=AddressBookRun.Trigger.ADMIN, user=None):
    """Queue a run now ("Sync now", the API); a worker picks it up. Returns the run."""
    run = AddressBookRun.objects.create(
        address_book=address_book,
        trigger=trigger,
        started_by=user if user is not None and user.is_authenticated else None,
    )
    transaction.on_commit(
        lambda: async_task(
            "integrations.addressbooks.tasks.address_book_run_task", run.pk, group="addressbooks"
        )
    )
    return run


def _lock(book, now) -> bool:
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    return bool(AddressBook.objects.filter(free, pk=book.pk).update(locked_until=now + LOCK_TTL))


def address_book_run_execute(*, run: AddressBookRun, client=None) -> AddressBookRun:
    """Run one queued (or new) run inline, under the address book's lock."""
    book = run.address_book
    now = timezone.now()
    if not _lock(book, now):
        run.state, run.finished_at = AddressBookRun.State.FAILED, now
        run.message = "Another sync of this address book was running."
        run.save()
        return run
    run.state = AddressBookRun.State.RUNNING
    run.save()
    syncer = None
    try:
        syncer = AddressBookSync(address_book=book, run=run, client=client)
        syncer.execute()
        errors = (
            syncer.counts["to_address_book"]["errors"] + syncer.counts["to_salesforce"]["errors"]
        )
        run.state = AddressBookRun.State.PARTIAL if errors else AddressBookRun.State.SUCCEEDED
        run.message = f"{errors} cards could not be synced; see the errors." if errors else ""
    except CardDavAuthError as exc:
        run.state, run.message = AddressBookRun.State.FAILED, str(exc)
    except CardDavError as exc:
        run.state, run.message = AddressBookRun.State.FAILED, str(exc)
        if exc.status == 404:
            # The address book was deleted on the server: find or create it next time.
            AddressBook.objects.filter(pk=book.pk).update(collection_url="", sync_token="")
            book.cards.all().delete()
    except Exception as exc:
        log.exception("address book run %s failed", run.pk)
        run.state, run.message = AddressBookRun.State.FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        if syncer is not None:
            run.counts, run.errors = syncer.counts, syncer.errors[:500]
            run.requests = syncer.client.requests_made
        run.finished_at = timezone.now()
        run.save()
        if run.state == AddressBookRun.State.FAILED:
            AddressBook.objects.filter(pk=book.pk).update(last_error=run.message)
        AddressBook.objects.filter(pk=book.pk).update(locked_until=None)
    return run


def address_book_sync(*, address_book, trigger=AddressBookRun.Trigger.SCHEDULE, client=None):
    """One run, inline (the schedule, tests, the bench)."""
    run = AddressBookRun.objects.create(address_book=address_book, trigger=trigger)
    return address_book_run_execute(run=run, client=client)
