"""One display name per person, everywhere: the full name, else the username. The control
panel's header, every list and link that shows a user (str(user)), match edits and history
use it; the demo's Salesforce users carry the same names as its crmbridge users."""


def display_name(user) -> str:
    return user.get_full_name().strip() or user.get_username()
