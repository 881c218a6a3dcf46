"""Reads of the address-book sync: the Contacts an address book shows, runs a user may see."""

from django.db.models import Q

from accounts.models import Contact, SalesforceUser
from crmbridge.roles import ADMIN, has_role

from .models import AddressBook, AddressBookCard, AddressBookRun


def contacts_in_view(*, address_book: AddressBook) -> dict[int, Contact]:
    """Contact pk -> Contact (with its Account) for every live Contact the address book shows:
    its view, plus the Contacts the rep added in the address book itself. One query."""
    view = address_book.view
    owner = address_book.owner
    if view == AddressBook.View.OWNED:
        chosen = Q(owner__user=owner)
    elif view == AddressBook.View.MY_ACCOUNTS:
        chosen = Q(account__owner__user=owner, account__is_deleted=False)
    else:
        chosen = Q(account__in=address_book.accounts.all(), account__is_deleted=False)
    added_here = AddressBookCard.objects.filter(
        address_book=address_book,
        origin=AddressBookCard.Origin.ADDRESS_BOOK,
        contact__isnull=False,
    ).values("contact_id")
    rows = Contact.objects.filter(chosen | Q(pk__in=added_here), is_deleted=False)
    return {c.pk: c for c in rows.select_related("account")}


def salesforce_user_of(*, user) -> SalesforceUser | None:
    return SalesforceUser.objects.filter(user=user).first()


def address_books_for(*, user):
    """The address books `user` may see: all for an Admin, their own for anyone else."""
    books = AddressBook.objects.select_related("owner")
    return books if has_role(user, ADMIN) else books.filter(owner=user)


def address_book_runs_for(*, user):
    runs = AddressBookRun.objects.select_related("address_book", "address_book__owner")
    return runs if has_role(user, ADMIN) else runs.filter(address_book__owner=user)


def address_books_due():
    return AddressBook.objects.filter(enabled=True).select_related("owner").order_by("pk")
