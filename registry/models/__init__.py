from registry.models.access import ApiToken, Role, RoleAssignment
from registry.models.audit import AuditEvent
from registry.models.certification import Certification, CertificationStatus
from registry.models.cultivation import (
    OPEN_POOL_STATUSES,
    CultivationEntry,
    CultivationNote,
    EligibilityRuleSet,
    PoolStatus,
)
from registry.models.firm import AliasKind, Firm, FirmAlias, ListingStatus
from registry.models.indicators import IndicatorYear
from registry.models.ladder import Level, Stage, Tier, ValidityRule
from registry.models.qualifications import IndicatorDetail, Qualification, QualificationKind, QualificationLevel
from registry.models.pipeline import CandidateCount, CandidateRank, FirmStageReach, FirmYearTransition, PipelineState
from registry.models.region import IndustryChain, Region
from registry.models.targets import PolicyTarget, TargetKind
from registry.models.version import RegistryVersion

__all__ = [
    "AliasKind", "ApiToken", "AuditEvent", "CandidateCount", "CandidateRank", "Certification", "CertificationStatus", "CultivationEntry", "CultivationNote",
    "EligibilityRuleSet", "Firm", "FirmAlias", "FirmStageReach", "FirmYearTransition", "IndicatorDetail", "IndicatorYear", "IndustryChain", "Level", "ListingStatus", "OPEN_POOL_STATUSES",
    "PipelineState", "PolicyTarget", "PoolStatus", "Qualification", "QualificationKind", "QualificationLevel", "Region", "RegistryVersion", "Role", "RoleAssignment", "Stage", "TargetKind", "Tier", "ValidityRule",
]
