"""Orphans: Contacts without an Account. Suggest the Account each belongs to; link in bulk."""

from django.db import transaction

from integrations.outbox.services import outbox_enqueue

from .models import Contact
from .selectors import account_suggestions_for_contacts


@transaction.atomic
def orphans_link_to_suggested(*, contacts, user=None) -> tuple[int, int]:
    """Link each orphan Contact to its suggested Account and queue the change for Salesforce.

    Returns (linked, without a suggestion). Contacts that have an Account by now are left alone.
    """
    contacts = list(  # FOR NO KEY UPDATE: rows referring to these Contacts are not held up
        Contact.objects.select_for_update(no_key=True)
        .filter(pk__in=[c.pk for c in contacts], account__isnull=True)
        .order_by("pk")
    )
    suggestions = account_suggestions_for_contacts(contacts=contacts)
    linked = 0
    for contact in contacts:
        suggestion = suggestions.get(contact.pk)
        if suggestion is None:
            continue
        account, _why = suggestion
        contact.account = account
        contact.save(update_fields=["account", "local_modified_at"])
        if account.sf_id and (contact.sf_id or contact.crmbridge_id):
            outbox_enqueue(
                sobject="Contact",
                sf_id=contact.sf_id or "",
                crmbridge_id="" if contact.sf_id else contact.crmbridge_id,
                payload={"AccountId": account.sf_id},
                local=contact,
            )
        linked += 1
    return linked, len(contacts) - linked
