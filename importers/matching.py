"""Finding the firm a row names, within the importer's regions.

A row with a USCC is matched by it (importers.services). A name-only row (unicorn lists, MIIT name
lists) is matched here: the exact normalised name, then former names (曾用名) and aliases
(registry.FirmAlias: brand, English, short names). A near miss goes to the review list with the
closest firm as candidate; a name nobody has becomes a pending row (errors.UnknownName).

One scope rule: only firms in the importer's regions are ever candidates. A name that matches
only firms elsewhere is an ``out_of_scope`` error that names no firm, region or USCC.
"""

from __future__ import annotations

from django.db.models import Q

from registry.data import resolve_region
from registry.models import Firm, FirmAlias
from registry.names import normalize_name

from .errors import NeedsReview, RowProblem, UnknownName
from .models import ReviewReason
from .report import OUT_OF_SCOPE

FUZZY_CUTOFF = 85


class Matcher:
    def __init__(self, scope, region_paths):
        """scope: the importer's region paths (None = everywhere); region_paths: {code: path}."""
        self.scope = scope
        self.region_paths = region_paths
        self._former = None
        self._fuzzy = {}

    def in_scope(self, path):
        return self.scope is None or any(path.startswith(p) for p in self.scope)

    def scoped(self, query, prefix="region__path"):
        if self.scope is None:
            return query
        q = Q(pk__in=[])
        for path in self.scope:
            q |= Q(**{f"{prefix}__startswith": path})
        return query.filter(q)

    def former_names(self):
        """{normalised former name: {firm id}}, read once per run."""
        if self._former is None:
            self._former = {}
            for firm_id, former in Firm.objects.exclude(former_names=[]).values_list("id", "former_names"):
                for old in former or ():
                    self._former.setdefault(normalize_name(old), set()).add(firm_id)
        return self._former

    def other_names(self, key):
        """Firms with key as a former name or alias."""
        ids = set(self.former_names().get(key, ()))
        ids.update(FirmAlias.objects.filter(name_normalized=key).values_list("firm_id", flat=True))
        return list(Firm.objects.filter(id__in=ids).select_related("region")) if ids else []

    def exact(self, key):
        """Firms whose name, else former name or alias, normalises to key; in scope before out of it
        (a name registered elsewhere does not hide a local firm's alias)."""
        by_name = list(Firm.objects.filter(name_normalized=key).select_related("region"))
        if any(self.in_scope(f.region.path) for f in by_name):
            return by_name
        others = self.other_names(key)
        return [f for f in others if self.in_scope(f.region.path)] or by_name or others

    def firm_by_name(self, name, region_text=None):
        """The one firm in scope the name stands for; NeedsReview, RowProblem or UnknownName otherwise."""
        key = normalize_name(name)
        firms = self.exact(key)
        region_code = resolve_region(region_text) if region_text else None
        if firms:
            mine = [f for f in firms if self.in_scope(f.region.path)]
            if not mine:
                raise RowProblem("name", OUT_OF_SCOPE, "out_of_scope")
            firms = mine
        if len(firms) > 1 and region_code:
            path = self.region_paths.get(region_code, "")
            firms = [f for f in firms if f.region.path.startswith(path)] or firms
        if len(firms) == 1:
            return firms[0]
        if len(firms) > 1:
            raise NeedsReview(ReviewReason.AMBIGUOUS, f"{len(firms)} firms are named “{name}”; choose one.",
                              candidate=firms[0])
        from rapidfuzz import fuzz, process

        scope_key = region_code or ""
        if scope_key not in self._fuzzy:
            query = self.scoped(Firm.objects.all())
            if region_code:
                query = query.filter(region__path__startswith=self.region_paths.get(region_code, ""))
            self._fuzzy[scope_key] = dict(query.values_list("id", "name_normalized"))
        best = process.extractOne(key, self._fuzzy[scope_key], scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if best:
            _, score, firm_id = best
            firm = Firm.objects.get(id=firm_id)
            raise NeedsReview(ReviewReason.FUZZY_NAME,
                              f"No firm is named exactly “{name}”; the closest is “{firm.name}” "
                              f"({score:.0f}/100). Confirm or reject the match.", candidate=firm, score=round(score, 1))
        raise UnknownName(name)
