"""System checks of title classification: the bundled rule packs load and are valid."""

from django.core import checks

from .engine import load_rulepack, shadowed_rules
from .services import STARTER_PACKS


@checks.register()
def rulepacks_check(app_configs=None, **kwargs):
    errors = []
    for name in STARTER_PACKS.values():
        try:
            rules = load_rulepack(name)
            bad = shadowed_rules(rules)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            errors.append(
                checks.Error(
                    f"rule pack {name!r} cannot be loaded: {exc}", id="classification.E001"
                )
            )
            continue
        for item in bad:
            errors.append(
                checks.Warning(
                    f"rule pack {name!r}: {item.rule.keyword!r} can never win ({item.reason})",
                    id="classification.W001",
                )
            )
    return errors
