"""Upsert the national default rule sets; takes model classes so a migration can pass historical ones."""

import datetime

from registry.eligibility.defaults import RULE_SETS


def load_rule_sets(rule_model, stage_model, tier_model, rule_sets=RULE_SETS):
    for spec in rule_sets:
        rule_model.objects.update_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "stage": stage_model.objects.get(code=spec["stage"]),
                "tier": tier_model.objects.get(code=spec["tier"]) if spec["tier"] else None,
                "jurisdiction": None,
                "effective_from": datetime.date.fromisoformat(spec["effective_from"]),
                "effective_to": datetime.date.fromisoformat(spec["effective_to"]) if spec["effective_to"] else None,
                "source": spec["source"],
                "thresholds": spec["thresholds"],
            },
        )
