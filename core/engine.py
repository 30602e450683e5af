"""The engine every surface drives: one object holding the feature services over shared deps."""

from __future__ import annotations

from core.accounts import AccountService
from core.deps import Deps
from core.facts import FactService
from core.fixes import FixService
from core.handoffs import HandoffService
from core.home import HomeService
from core.inbox import InboxService
from core.metric import MetricService
from core.notices import NoticeService
from core.perform import ActionService
from core.previews import PreviewService
from core.psa_link import PsaLinkService
from core.psa_settings import PsaSettingsService
from core.resolution import ResolutionService
from core.sessions import SessionService
from core.surfaces import SurfaceRefService
from core.tenants import TenantService
from core.turns import TurnService
from core.writeback import WritebackService


class Engine:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.turns = TurnService(deps)
        self.sessions = SessionService(deps, on_turn_queued=self.turns.kick)
        self.facts = FactService(deps)
        self.fixes = FixService(deps)
        self.previews = PreviewService(deps)
        self.resolution = ResolutionService(deps, self.previews)
        self.handoffs = HandoffService(deps, self.previews)
        self.metric = MetricService(deps)
        self.home = HomeService(deps)
        self.accounts = AccountService(deps)
        self.psa = PsaLinkService(deps)
        self.psa_settings = PsaSettingsService(deps, self.psa)
        self.writebacks = WritebackService(deps)
        self.inbox = InboxService(deps)
        self.tenants = TenantService(deps)
        self.surfaces = SurfaceRefService(deps)
        self.notices = NoticeService(deps)
        self.actions = ActionService(sessions=self.sessions, facts=self.facts, fixes=self.fixes, previews=self.previews,
                                     resolution=self.resolution, handoffs=self.handoffs, psa=self.psa,
                                     writebacks=self.writebacks)
