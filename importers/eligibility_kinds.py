"""Appliers of the `qualifications` and `details` import kinds (issue 16), kept apart from the other kinds.

Each row goes through registry.services.qualifications — the same audited write as the GraphQL
mutations — after the run's usual firm matching and region scope (Run.firm_for / check_scope).
Columns: see importers/columns.py ("qualifications and indicator details").
"""

from registry.services.qualifications import DETAIL_FIELDS, record_qualification, upsert_indicator_details

# What users write in a 资质类型 / 级别 column → the stored codes.
KIND_WORDS = {"科学技术奖": "science_award", "科技奖": "science_award", "科技奖励": "science_award", "奖项": "science_award",
              "研发机构": "rd_institution", "研发平台": "rd_institution", "标准": "standard_led", "主导标准": "standard_led",
              "荣誉": "honour", "荣誉称号": "honour", "创客中国": "competition"}
LEVEL_WORDS = {"国际": "international", "国家级": "national", "国家": "national", "行业": "industry",
               "省部级": "provincial", "省级": "provincial", "部级": "provincial", "市级": "municipal",
               "区级": "district", "县级": "district", "区县级": "district"}


class EligibilityAppliers:
    """Mixed into importers.services.Run: `apply_<kind>` for the two kinds."""

    def apply_qualifications(self, values, *, line, override_reason="", firm=None):
        from importers.services import RowProblem

        firm = self.firm_for(values, create=False, firm=firm)
        self.check_scope(firm.region_id)
        kind_text = str(values.get("qualification_kind") or "").strip()
        level_text = str(values.get("level") or "").strip()
        data = {
            "kind": KIND_WORDS.get(kind_text, kind_text), "level": LEVEL_WORDS.get(level_text, level_text),
            "name": values.get("qualification_name"), "awarded_on": values.get("issued_on"),
            "valid_until": values.get("valid_until"), "rank": values.get("rank"),
            "issuer": values.get("authority") or "", "reference": values.get("certificate_no") or "",
            "source_name": self.job.file_name, "source_row": line,
        }
        if data["awarded_on"] is None:
            raise RowProblem("issued_on", "No date: add a 获得/认定日期 column.", "required")
        _, outcome = record_qualification(firm, actor=self.user, via=self.via,
                                          **{k: v for k, v in data.items() if v not in (None, "")})
        return outcome

    def apply_details(self, values, *, line, override_reason="", firm=None):
        from importers.services import RowProblem

        firm = self.firm_for(values, create=False, firm=firm)
        self.check_scope(firm.region_id)
        if values.get("year") is None:
            raise RowProblem("year", "No year: add a 年度 column or name the sheet after the year.", "required")
        data = {k: values[k] for k in DETAIL_FIELDS if values.get(k) is not None}
        data.update(source_name=self.job.file_name, source_row=line)
        _, outcome = upsert_indicator_details(firm, values["year"], data, actor=self.user, via=self.via)
        return outcome
