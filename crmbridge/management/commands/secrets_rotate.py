"""Re-encrypt every stored secret with the newest key of FIELD_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from crmbridge.crypto import SecretUnreadable, encrypted_fields, rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        rotated = unreadable = 0
        quote = connection.ops.quote_name
        with transaction.atomic(), connection.cursor() as cursor:
            for model, attname in encrypted_fields():
                # Raw SQL: through the ORM the field would decrypt and re-encrypt the values.
                table, column = quote(model._meta.db_table), quote(attname)
                pk = quote(model._meta.pk.column)
                cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
                for row_pk, token in cursor.fetchall():
                    try:
                        fresh = rotate(token)
                    except SecretUnreadable:
                        unreadable += 1
                        continue
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                        [fresh, row_pk],
                    )
                    rotated += 1
        self.stdout.write(f"{rotated} secrets re-encrypted, {unreadable} unreadable (key gone).")
