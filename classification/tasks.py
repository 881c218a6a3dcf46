"""django-q2 entry points of title classification (thin: take ids, call a service)."""

from . import services


def reclassify_contacts(run_id: int) -> dict:
    run = services.contacts_reclassify(run_id=run_id)
    return {"run": run.pk, "state": run.state, "changed": run.changed}
