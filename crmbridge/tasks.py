"""django-q2 entry points of the organisation app."""


def broker_probe(value):
    """A trivial task: proves the broker and a worker cluster run work and keep results."""
    return {"echo": value}
