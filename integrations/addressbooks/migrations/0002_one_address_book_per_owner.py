"""One address book per rep. A rep who already has several keeps one: the enabled one that
synced last (the earliest made among equals); the others, and the cards they tracked, go. The
vCards on the rep's server are not touched."""

from django.db import migrations, models
from django.db.models import F


def keep_one_address_book_per_owner(apps, schema_editor):
    AddressBook = apps.get_model("addressbooks", "AddressBook")
    kept = {}
    order = ("owner_id", "-enabled", F("last_synced_at").desc(nulls_last=True), "pk")
    for book in AddressBook.objects.order_by(*order).only("pk", "owner_id", "name"):
        if book.owner_id in kept:
            print(
                f"\n  address book {book.pk} ({book.name!r}) removed: its rep keeps "
                f"address book {kept[book.owner_id]}"
            )
            book.delete()
        else:
            kept[book.owner_id] = book.pk
    if schema_editor.connection.vendor == "postgresql":
        # The deletes left deferred foreign-key checks pending, and PostgreSQL alters no table
        # with pending checks: run them now, so the constraint follows in the same transaction
        # (no book can slip in between).
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [("addressbooks", "0001_initial")]

    operations = [
        migrations.RunPython(keep_one_address_book_per_owner, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="addressbook",
            constraint=models.UniqueConstraint(
                fields=("owner",),
                name="one_address_book_per_owner",
                violation_error_message="This rep already has an address book.",
            ),
        ),
    ]
