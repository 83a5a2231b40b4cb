"""Upsert the national default rule sets; takes model classes so a migration can pass historical ones."""

import datetime
import json
from pathlib import Path

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


LOCAL_SCHEMES = Path(__file__).resolve().parent.parent / "data" / "local_schemes.json"


def local_scheme_specs(path=LOCAL_SCHEMES):
    return json.loads(Path(path).read_text(encoding="utf-8"))["rule_sets"]


def load_local_schemes(rule_model, stage_model, tier_model, region_model, path=LOCAL_SCHEMES):
    """Upsert the local schemes (registry/data/local_schemes.json) by code, each with its jurisdiction.

    The `scheme` block in thresholds marks the row as a local scheme: listed for the region's officers
    and evaluated on request (registry.eligibility.rules.schemes_in_force), never used by the national
    candidates ranking.
    """
    for spec in local_scheme_specs(path):
        rule_model.objects.update_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "stage": stage_model.objects.get(code=spec["stage"]),
                "tier": tier_model.objects.get(code=spec["tier"]) if spec["tier"] else None,
                "jurisdiction": region_model.objects.get(code=spec["jurisdiction"]),
                "effective_from": datetime.date.fromisoformat(spec["effective_from"]),
                "effective_to": datetime.date.fromisoformat(spec["effective_to"]) if spec["effective_to"] else None,
                "source": spec["source"][:255],
                "thresholds": {
                    "criteria": spec["criteria"],
                    "scheme": {"name_en": spec["name_en"], "version": spec["version"], "source": spec["source"],
                               "source_note": spec["source_note"]},
                },
            },
        )
