"""Migrations apply on a database that already holds data: a fresh database is migrated to the
state main had at commit 87336c2, filled through the historical models, then migrated forward to
the latest migrations, and every row is still there with its values.

The rows are read back through the historical models of the latest state, under the app label
each model has there (MOVED_TO), so the test follows a model that a migration moves to another
app (SeparateDatabaseAndState); a move missing from MOVED_TO fails with the model's old label.
"""

import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps as installed_apps
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# Its own xdist group: it drops and re-creates crmbridge's tables, which no test may share. It
# ends with the database at the latest migrations; the flush after it runs post_migrate, which
# gives the role groups their permissions again.
pytestmark = [
    pytest.mark.xdist_group("migrations"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The leaf migration of every app on main at commit 87336c2.
START = [
    ("accounts", "0002_email_lower_indexes_orphan_proxy"),
    ("activities", "0005_participant_drop_plain_email_index"),
    ("admin", "0003_logentry_add_action_flag_choices"),
    ("auth", "0012_alter_user_first_name_max_length"),
    ("authtoken", "0004_alter_tokenproxy_options"),
    ("axes", "0010_accessattemptexpiration"),
    ("classification", "0002_reclassification_resume_point"),
    ("contenttypes", "0002_remove_content_type_name"),
    ("crmbridge", "0002_roles_and_defaults"),
    ("dialer", "0001_dialer_projects_integrations_runs"),
    ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ("integrations", "0001_initial"),
    ("sessions", "0001_initial"),
    ("sync", "0002_syncrun_queued_and_pulled_values"),
]

# Models a migration moved to another app (SeparateDatabaseAndState): "label.Model" at START ->
# the app label it has at the latest state. None yet: the outbox's code moved to
# integrations.outbox, but its app label stayed "integrations".
MOVED_TO: dict[str, str] = {}

WHEN = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _project_app_labels():
    """The apps crmbridge itself ships (their tables are dropped to start from nothing)."""
    base = Path(settings.BASE_DIR)
    return [
        config.label
        for config in installed_apps.get_app_configs()
        if Path(config.path).is_relative_to(base) and "site-packages" not in Path(config.path).parts
    ]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _latest_label(label):
    app_label, name = label.split(".")
    return f"{MOVED_TO.get(label, app_label)}.{name}"


def _fill(apps):
    """A row in each main table, as a database at START holds them: {label: (pk, values)}."""
    rows = {}

    def add(label, **values):
        model = apps.get_model(label)
        rows[label] = (model.objects.create(**values).pk, values)
        return rows[label][0]

    user = apps.get_model("auth", "User").objects.create(
        username="rex", email="rex@crmbridge.example", password="!"
    )
    account = add(
        "accounts.Account",
        sf_id="001000000000001AAA",
        name="Acme",
        website="https://acme.com",
        alternate_domains="acme.de",
        sf_created_at=WHEN,
    )
    add("accounts.AccountDomain", account_id=account, domain="acme.com", source="website")
    contact = add(
        "accounts.Contact",
        sf_id="003000000000001AAA",
        first_name="Jane",
        last_name="Doe",
        email="jane@acme.com",
        title="VP Finance",
        department="Finance",
        seniority="Vice President",
        account_id=account,
    )
    activity = add(
        "activities.Activity",
        external_id="msg-1",
        kind="email",
        occurred_at=WHEN,
        owner_id=user.pk,
        subject="Renewal",
        match_status="matched",
        account_id=account,
        match_reason="jane@acme.com is a Contact of Acme.",
    )
    add(
        "activities.Participant",
        activity_id=activity,
        email="jane@acme.com",
        name="Jane Doe",
        domain="acme.com",
        contact_id=contact,
        account_id=account,
    )
    add(
        "activities.ActivityLog",
        activity_id=activity,
        sobject="Task",
        contact_id=contact,
        crmbridge_id="a" * 32,
    )
    add(
        "activities.ContactAttributeChange",
        contact_id=contact,
        activity_id=activity,
        field="title",
        old_value="Finance Director",
        new_value="VP Finance",
    )
    add(
        "integrations.OutboxItem",
        sobject="Task",
        operation="upsert",
        crmbridge_id="a" * 32,
        payload={"Subject": "Renewal", "WhoId": "003000000000001AAA"},
        local_ref=f"activities.activitylog:{rows['activities.ActivityLog'][0]}",
    )
    add(
        "classification.ClassificationRule",
        keyword="Finance",
        phrase="finance",
        dimension="department",
        value="Finance",
        priority=3,
    )
    settings_values = {
        "internal_domains": ["crmbridge.example"],
        "required_contact_fields": ["title"],
        "contact_creation_enabled": False,
    }
    apps.get_model("crmbridge", "GlobalSettings").objects.filter(pk=1).update(**settings_values)
    rows["crmbridge.GlobalSettings"] = (1, settings_values)
    return rows


def test_migrations_keep_the_rows_of_a_database_made_at_87336c2():
    project_apps = _project_app_labels()
    _migrate([(label, None) for label in project_apps])
    executor = _migrate(START)
    rows = _fill(executor.loader.project_state(START).apps)

    executor = _migrate(executor.loader.graph.leaf_nodes())
    latest = executor.loader.project_state(executor.loader.graph.leaf_nodes()).apps

    for label, (pk, values) in rows.items():
        model = latest.get_model(_latest_label(label))
        stored = model.objects.filter(pk=pk).values(*values).first()
        assert stored == values, label
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())


def _schema(tables):
    with connection.cursor() as cursor:
        return {
            table: {
                name: (info["columns"], info["unique"], info["index"], info["foreign_key"])
                for name, info in connection.introspection.get_constraints(cursor, table).items()
                if not name.startswith("sqlite_autoindex")  # SQLite's names for inline UNIQUE
            }
            for table in tables
        }


def test_the_like_index_migrations_go_back_and_forth_keeping_rows_and_indexes():
    """accounts 0005 and sync 0005 (unique constraints and indexes in Meta; on PostgreSQL only
    the `_like` copies dropped, nothing rebuilt) undone and done again: the same schema, the
    rows still there, on PostgreSQL the `_like` copies back in between."""
    executor = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    leaves = executor.loader.graph.leaf_nodes()
    apps = executor.loader.project_state(leaves).apps
    Contact = apps.get_model("accounts", "Contact")
    contact = Contact.objects.create(sf_id="003000000000009AAA", last_name="Doe", email="j@x.io")
    tables = [
        apps.get_model(label)._meta.db_table
        for label in ("accounts.Contact", "accounts.Account", "sync.PulledValues")
    ]
    after = _schema(tables)
    _migrate([("accounts", "0004_merge_0003_account_billing_city_0003_history")])
    _migrate([("sync", "0004_sync_settings_history")])
    between = _schema(tables)
    if connection.vendor == "postgresql":
        assert any(name.endswith("_like") for name in between["accounts_contact"])
    assert not any(name.endswith("_like") for t in after for name in after[t])
    _migrate(leaves)
    assert _schema(tables) == after
    assert Contact.objects.filter(pk=contact.pk, sf_id=contact.sf_id).exists()
