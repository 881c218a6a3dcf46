"""django-q2 entry points of the address-book sync (thin: they take ids and call services)."""

from .models import AddressBookRun
from .selectors import address_books_due
from .services import address_book_run_execute, address_book_sync


def address_book_run_task(run_id):
    """Run a queued run ("Sync now", the API)."""
    run = AddressBookRun.objects.filter(pk=run_id, state=AddressBookRun.State.QUEUED).first()
    if run is None:
        return None
    return address_book_run_execute(run=run).state


def address_books_sync_scheduled():
    """The schedule: every enabled address book once."""
    return [address_book_sync(address_book=book).state for book in address_books_due()]
