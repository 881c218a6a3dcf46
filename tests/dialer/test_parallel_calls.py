"""Five calls with different call_ids for the same new person, run at once: the first creates
the person in Salesforce, the others find and update it (one record, not five, and no failed
runs or error e-mails)."""

import contextlib
import threading

import pytest
from django.db import connection
from django_q.conf import Conf

from integrations.dialer import services
from integrations.dialer.models import Action, CallRun

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PERSON = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace.hopper@navy.example",
    "company": "US Navy",
    "website": "navy.example",
}


def _meet_after_first_lookup(client, count):
    """Each run, after its first look-up in Salesforce, waits (a little) for the others to have
    looked too: the moment a run that has not yet created the person lets another one look.
    Serialised runs never meet; the wait then ends by its timeout."""
    meeting = threading.Barrier(count, timeout=3)
    looked = threading.local()

    def hook(response, **kwargs):
        if "/query" in response.request.url and not getattr(looked, "done", False):
            looked.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait()
        return response

    client._session.hooks["response"].append(hook)


def _run_at_once(project, count):
    Conf.SYNC = False  # queue the runs (to the ORM broker) instead of running them inline
    try:
        runs = [
            services.call_result_receive(
                project=project, call_id=f"parallel-{n}", result_code="YES", record=PERSON
            )[0]
            for n in range(count)
        ]
    finally:
        Conf.SYNC = True
    start = threading.Barrier(count)

    def work(run_id):
        try:
            start.wait()
            services.run_execute(run_id=run_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(run.pk,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return CallRun.objects.filter(pk__in=[r.pk for r in runs])


@pytest.mark.parametrize(
    ("action", "created"),
    [
        (Action.UPDATE_OR_CREATE_CONTACT, ("Contact", "Account")),
        (Action.UPDATE_OR_CREATE_LEAD, ("Lead",)),
    ],
)
def test_five_parallel_calls_for_one_new_person_make_one_record(
    sf_org, sf_client, project, make_integration, action, created
):
    make_integration(action)
    _meet_after_first_lookup(sf_client, 5)

    runs = _run_at_once(project, 5)

    assert sorted(runs.values_list("status", flat=True)) == [CallRun.Status.SUCCEEDED] * 5
    for sobject in created:
        assert len(sf_org.rows(sobject)) == 1, (sobject, sf_org.rows(sobject))
