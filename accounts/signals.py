"""What the mirror announces about changes made to it from Salesforce (by the pull, or any
other writer of Salesforce's own data). Declared here, at the data, so that the writer above
(integrations.sync) and the listeners (activities, classification) both import downward."""

from django.dispatch import Signal

# Accounts gained domains: unmatched activity on them may match now.
# Arguments: domains (sorted list), background (True: an admin's change, work may be queued).
# Receivers return how many activities they re-matched.
account_domains_added = Signal()

# Contacts arrived or changed title: their classification may change.
# Arguments: contacts (saved mirror rows). Receivers return how many Contacts they changed.
contacts_retitled = Signal()

# Which (sobject, Salesforce field) of the mirror crmbridge owns, so that its queued value wins
# a conflict with a newer Salesforce value. Receivers return an iterable of pairs.
owned_fields_requested = Signal()

# Records were written in Salesforce outside the outbox (the dialer's real-time writes): the
# mirror's copy is stale. Arguments: records ({sobject: [Salesforce Ids]}). The sync refreshes
# them after the writer's transaction commits.
mirror_records_stale = Signal()
