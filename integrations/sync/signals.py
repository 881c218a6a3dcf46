"""The one signal the sync listens to: a Contact deleted in crmbridge (from any page or action).

The work is in services.contact_deleted_locally; deletions the pull itself makes (Salesforce
deleted the record) are not sent back.
"""

import contextvars

applying_pull = contextvars.ContextVar("sync_applying_pull", default=False)


def contact_post_delete(sender, instance, **kwargs):
    if applying_pull.get():
        return
    from .services import contact_deleted_locally

    contact_deleted_locally(contact=instance)
