from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("addressbooks", "0002_keep_one_address_book_per_owner")]

    operations = [
        migrations.AddConstraint(
            model_name="addressbook",
            constraint=models.UniqueConstraint(
                fields=("owner",),
                name="one_address_book_per_owner",
                violation_error_message="This rep already has an address book.",
            ),
        ),
    ]
