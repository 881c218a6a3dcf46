"""Failed runs: they say what failed, e-mail the integration's recipients, keep everything, and
can be retried from the admin after the fix without creating duplicates."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.dialer import services
from integrations.dialer.models import Action, CallRun, FieldMapping

pytestmark = pytest.mark.django_db

CALL = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace@navy.example",
    "company": "US Navy",
}


def retry_in_admin(client, user, run_ids, django_capture_on_commit_callbacks):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("admin:dialer_callrun_changelist"),
            {"action": "retry", "_selected_action": [str(i) for i in run_ids]},
            follow=True,
        )


def test_a_create_with_an_unmapped_mandatory_field_fails_listing_it(
    sf_org, make_integration, post_call, run_of, mailoutbox
):
    make_integration(Action.UPDATE_OR_CREATE_LEAD, lead=[("last_name", "LastName")])

    run = run_of(post_call("YES", CALL, call_id="M-1"))

    assert run["status"] == "failed"
    assert "Company" in run["error"] and "not mapped" in run["error"]
    assert run["outcome"] == "Nothing was written."
    assert sf_org.count("Lead") == 0
    (mail,) = mailoutbox
    assert "Company" in mail.body and "M-1" in mail.body and "Map every mandatory Lead" in mail.body
    assert "dlr_" not in mail.body + mail.subject


def test_the_error_email_is_sent_even_when_the_call_id_has_a_line_break(
    make_integration, post_call, run_of, mailoutbox
):
    make_integration(Action.UPDATE_OR_CREATE_LEAD, lead=[("last_name", "LastName")])

    run = run_of(post_call("YES", CALL, call_id="M-2\nBcc: someone@example.com"))

    assert run["status"] == "failed"
    (mail,) = mailoutbox
    assert "\n" not in mail.subject and "M-2" in mail.subject
    assert "someone@example.com" not in mail.recipients()


def test_a_mandatory_field_empty_in_the_call_fails_listing_it(
    sf_org, make_integration, post_call, run_of
):
    make_integration(Action.UPDATE_OR_CREATE_CONTACT)

    run = run_of(post_call("YES", dict(CALL, last_name="  ")))

    assert run["status"] == "failed"
    assert "empty in this call: LastName" in run["error"]
    assert sf_org.count("Contact") == sf_org.count("Account") == 0


def test_retrying_after_the_mapping_is_fixed_creates_the_record_once(
    client, admin_member, sf_org, make_integration, post_call, run_of, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    integration = make_integration(Action.UPDATE_OR_CREATE_LEAD, lead=[("last_name", "LastName")])
    run_id = post_call("YES", CALL).json()["id"]
    assert CallRun.objects.get(pk=run_id).status == CallRun.Status.FAILED
    FieldMapping.objects.create(
        integration=integration, dialer_field="company", sobject="Lead", salesforce_field="Company"
    )

    response = retry_in_admin(client, admin_member, [run_id], django_capture_on_commit_callbacks)

    assert "1 run(s) retried" in response.content.decode()
    run = CallRun.objects.get(pk=run_id)
    assert run.status == CallRun.Status.SUCCEEDED and run.attempts == 2 and run.error == ""
    assert [lead["Company"] for lead in sf_org.rows("Lead")] == ["US Navy"]
    assert len(run.emails_sent) == 1  # the first attempt's e-mail is still on record


def test_a_retry_after_a_partial_write_creates_no_duplicate(
    client, admin_member, sf_org, make_integration, post_call, django_capture_on_commit_callbacks
):
    # The Account and Contact are written, then Salesforce rejects the Opportunity's mapping.
    integration = make_integration(
        Action.UPDATE_OR_CREATE_CONTACT,
        account=[("company", "Name")],
        opportunity=[
            ("deal", "Name"), ("stage", "StageName"), ("close", "CloseDate"), ("amount", "Amount"),
        ],
    )  # fmt: skip
    record = dict(CALL, deal="Fleet", stage="Prospecting", close="2027-01-31", amount="1000")
    run_id = post_call("YES", record).json()["id"]
    run = CallRun.objects.get(pk=run_id)
    assert run.status == CallRun.Status.FAILED
    assert run.error.startswith("Salesforce said:") and "Amount" in run.error
    assert sf_org.count("Contact") == 1 and sf_org.count("Account") == 1
    assert "Written before the failure" in run.outcome
    integration.field_mappings.filter(salesforce_field="Amount").delete()  # the fix

    retry_in_admin(client, admin_member, [run_id], django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert run.status == CallRun.Status.SUCCEEDED, run.error
    assert sf_org.count("Contact") == sf_org.count("Account") == sf_org.count("Opportunity") == 1
    (contact,) = sf_org.rows("Contact")
    (opportunity,) = sf_org.rows("Opportunity")
    assert opportunity["AccountId"] == contact["AccountId"]


def test_salesforce_down_fails_the_run_clearly_and_a_retry_later_succeeds(
    client, admin_member, sf_org, sf_client, make_integration, post_call, run_of,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    make_integration(Action.UPDATE_OR_CREATE_LEAD)
    sf_client.limits()
    sf_org.faults.fail_next(50, kind="503")

    run = run_of(post_call("YES", CALL))

    assert run["status"] == "failed"
    assert "could not be reached" in run["error"]
    sf_org.faults.clear()
    retry_in_admin(client, admin_member, [run["id"]], django_capture_on_commit_callbacks)
    assert CallRun.objects.get(pk=run["id"]).status == CallRun.Status.SUCCEEDED
    assert sf_org.count("Lead") == 1


def test_a_lost_answer_to_the_lead_upsert_does_not_duplicate_it(
    sf_org, sf_client, make_integration, post_call, run_of
):
    make_integration(Action.UPDATE_OR_CREATE_LEAD)
    sf_client.limits()
    sf_org.faults.fail_next(1, kind="connection", endpoint="PATCH sobjects", after=True)

    run = run_of(post_call("YES", CALL))

    assert run["status"] == "succeeded", run["error"]
    assert sf_org.count("Lead") == 1


def test_only_failed_runs_are_retried(
    client, admin_member, make_integration, post_call, django_capture_on_commit_callbacks
):
    make_integration(Action.UPDATE_OR_CREATE_LEAD)
    run_id = post_call("YES", CALL).json()["id"]

    response = retry_in_admin(client, admin_member, [run_id], django_capture_on_commit_callbacks)

    assert "skipped: only failed or stuck runs" in response.content.decode()
    assert CallRun.objects.get(pk=run_id).attempts == 1


def test_a_csm_cannot_retry(client, csm_user, make_integration, post_call):
    make_integration(Action.UPDATE_ONLY)
    run_id = post_call("YES", CALL).json()["id"]
    client.force_login(csm_user)

    client.post(
        reverse("admin:dialer_callrun_changelist"),
        {"action": "retry", "_selected_action": [str(run_id)]},
    )

    assert CallRun.objects.get(pk=run_id).status == CallRun.Status.FAILED


def test_failed_runs_need_the_admins_attention(
    client, admin_member, csm_user, make_integration, post_call
):
    make_integration(Action.UPDATE_ONLY)
    post_call("YES", CALL)

    client.force_login(admin_member)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Dialer runs failed" in page
    client.force_login(csm_user)
    assert "Dialer runs failed" not in client.get(reverse("admin:index")).content.decode()


def test_a_run_that_cannot_be_retried_is_left_alone(make_integration, post_call):
    make_integration(Action.UPDATE_OR_CREATE_LEAD)
    run = CallRun.objects.get(pk=post_call("NI", CALL).json()["id"])

    assert services.run_retry(run=run) is False


def test_a_run_whose_task_was_lost_can_be_retried(sf_org, make_integration, post_call, project,
                                                  django_capture_on_commit_callbacks):  # fmt: skip
    make_integration(Action.UPDATE_OR_CREATE_LEAD)
    lost = CallRun.objects.create(
        project=project, call_id="lost", result_code="YES", payload=CALL, action="x"
    )
    assert services.run_retry(run=lost) is False  # just queued: its task may still come
    CallRun.objects.filter(pk=lost.pk).update(received_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.run_retry(run=lost) is True

    assert CallRun.objects.get(pk=lost.pk).status == CallRun.Status.SUCCEEDED
    assert sf_org.count("Lead") == 1
