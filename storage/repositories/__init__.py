"""SQL implementations of core.ports' repositories, every query scoped by account_id (R35)."""

from storage.repositories.handoffs import (
    SqlDraftTemplateRepository,
    SqlHandoffRepository,
    SqlNotificationRepository,
    SqlWriteupRepository,
)
from storage.repositories.people import SqlAccountRepository, SqlMemberRepository
from storage.repositories.psa import SqlPsaConnectionRepository, SqlWritebackRepository
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
    "SqlDraftTemplateRepository",
    "SqlFactRepository",
    "SqlFixRepository",
    "SqlHandoffRepository",
    "SqlMemberRepository",
    "SqlNotificationRepository",
    "SqlPsaConnectionRepository",
    "SqlSessionRepository",
    "SqlStepRepository",
    "SqlTaskItemRepository",
    "SqlTurnRepository",
    "SqlWritebackRepository",
    "SqlWriteupRepository",
]
