"""Per-day figures on the sync dashboard, from whichever app owns them.

Each app registers a function `(days, since) -> Chart` (its AppConfig.ready()); the dashboard
draws them in the order of `position`, so the dashboard never imports the apps it shows.
"""

from dataclasses import dataclass

_providers: list[tuple[int, object]] = []


@dataclass(frozen=True)
class Chart:
    title: str
    series: list  # [(label, [value per day])], stacked bottom-up


def register(position: int):
    """Decorator: add a chart provider at `position` (lower first)."""

    def add(provider):
        if all(p is not provider for _, p in _providers):
            _providers.append((position, provider))
            _providers.sort(key=lambda entry: entry[0])
        return provider

    return add


def charts_for(*, days, since) -> list[Chart]:
    return [provider(days=days, since=since) for _, provider in _providers]
