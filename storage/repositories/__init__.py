"""SQL implementations of core.ports' repositories, every query scoped by account_id (R35)
except the few platform lookups that find the account (repositories/platform.py)."""

from storage.repositories.handoffs import (
    SqlDraftTemplateRepository,
    SqlHandoffRepository,
    SqlNotificationRepository,
    SqlWriteupRepository,
)
from storage.repositories.people import SqlAccountRepository, SqlMemberRepository
from storage.repositories.platform import (
    SqlConnectCodeRepository,
    SqlInboundRepository,
    SqlSurfaceRefRepository,
    SqlTenantRepository,
)
from storage.repositories.psa import (
    SqlBoardStatusRepository,
    SqlPsaConnectionRepository,
    SqlPsaMemberLinkRepository,
    SqlWritebackRepository,
)
from storage.repositories.session_parts import (
    SqlFactRepository,
    SqlFixRepository,
    SqlStepRepository,
    SqlTaskItemRepository,
)
from storage.repositories.sessions import SqlSessionRepository
from storage.repositories.turns import SqlTurnRepository

__all__ = [
    "SqlAccountRepository",
    "SqlBoardStatusRepository",
    "SqlPsaMemberLinkRepository",
    "SqlConnectCodeRepository",
    "SqlDraftTemplateRepository",
    "SqlFactRepository",
    "SqlFixRepository",
    "SqlHandoffRepository",
    "SqlInboundRepository",
    "SqlMemberRepository",
    "SqlNotificationRepository",
    "SqlPsaConnectionRepository",
    "SqlSessionRepository",
    "SqlStepRepository",
    "SqlSurfaceRefRepository",
    "SqlTaskItemRepository",
    "SqlTenantRepository",
    "SqlTurnRepository",
    "SqlWritebackRepository",
    "SqlWriteupRepository",
]
