"""What needs an admin's attention: the control panel's home page lists these.

Each app registers a function `(request) -> iterable of Attention`; the admin index calls them
all. A function shows only what the user may open (no dead links, nothing beyond their role).
"""

from dataclasses import dataclass

_providers = []


@dataclass(frozen=True)
class Attention:
    title: str
    detail: str = ""
    url: str = ""
    level: str = "info"  # info | warning | error
    count: int | None = None


def register(provider):
    """Decorator: add a provider of Attention items to the admin home page."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def items_for(request):
    found = []
    for provider in _providers:
        found.extend(provider(request))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda item: order.get(item.level, 3))
