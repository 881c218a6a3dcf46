"""Two-way sync with Salesforce: the outbox (push) and the pull of what changed."""
