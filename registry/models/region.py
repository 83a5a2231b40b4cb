"""Administrative regions (GB/T 2260) and industry chains, both hierarchical.

Each row stores its materialised `path` ("320000/320500/320583/") so "a region and everything
under it" is one indexed prefix match instead of a recursive query.
"""

from django.db import models

from registry.models.base import BulkReadModel


class Region(BulkReadModel):
    class Kind(models.TextChoices):
        PROVINCE = "province", "省 province"
        CITY = "city", "市 city"
        DISTRICT = "district", "区县 district"
        PARK = "park", "园区 park"

    code = models.CharField(max_length=6, primary_key=True)
    name = models.CharField(max_length=60)
    level = models.CharField(max_length=10, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=80, db_index=True, editable=False)
    aliases = models.JSONField(default=list, blank=True, help_text="Other spellings used on published lists.")

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} {self.code}"

    def save(self, *args, **kwargs):
        self.path = build_path(self.parent.path if self.parent_id else "", self.code)
        super().save(*args, **kwargs)

    def subtree(self):
        return Region.objects.filter(path__startswith=self.path)


def build_path(parent_path, code):
    return f"{parent_path}{code}/"


class IndustryChain(BulkReadModel):
    """An industry chain (产业链) node; a firm can sit on several chains."""

    code = models.CharField(max_length=60, unique=True)
    name = models.CharField(max_length=60)
    name_en = models.CharField(max_length=80, blank=True, default="")  # English pages (web.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=200, db_index=True, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.path = build_path(self.parent.path if self.parent_id else "", self.code)
        super().save(*args, **kwargs)
