"""The one place that wires real implementations into the engine (cosmicpython's bootstrap)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.anthropic.client import AnthropicAssistant
from adapters.psa.connectwise import ConnectWiseProvider
from adapters.redisbus.bus import RedisBus
from bot.secretbox import FernetBox
from bot.settings import Settings
from core.bus import InMemoryBus
from core.deps import AssistantOff, Deps, EngineSettings, Notifiers, SecretBox
from core.engine import Engine
from core.ports.psa import PsaProvider
from core.ports.services import Assistant, EventBus, Notifier
from storage.db import make_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger("rflow.bootstrap")


@dataclass
class App:
    settings: Settings
    engine: Engine
    db: AsyncEngine
    bus: EventBus
    notifiers: list[Notifier] = field(default_factory=list)
    slack: Any = None  # adapters.slack.app.SlackAdapter when Slack is configured
    teams: Any = None  # adapters.teams.app.TeamsAdapter when Teams is configured

    async def close(self) -> None:
        for surface in (self.slack, self.teams):
            if surface is not None:
                await surface.close()
        close = getattr(self.bus, "close", None)
        if close is not None:
            await close()
        aclose = getattr(self.engine.deps.assistant, "aclose", None)
        if aclose is not None:  # the SDK's HTTP client, closed while its event loop still runs
            await aclose()
        await self.db.dispose()


def make_assistant(settings: Settings) -> Assistant:
    if settings.anthropic_api_key is None or not settings.anthropic_api_key.get_secret_value():
        return AssistantOff()
    return AnthropicAssistant(
        api_key=settings.anthropic_api_key.get_secret_value(), base_url=settings.anthropic_base_url,
        main_model=settings.main_model, fast_model=settings.fast_model, timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries, max_tokens=settings.llm_max_tokens, deadline=settings.llm_deadline,
    )


def make_secret_box(settings: Settings) -> SecretBox | None:
    if settings.secret_key is None or not settings.secret_key.get_secret_value():
        return None
    return FernetBox(settings.secret_key.get_secret_value())


def make_psa_provider(settings: Settings) -> PsaProvider:
    """The PSA adapter (ConnectWise Manage); RF_CW_API_URL points its clients elsewhere (tests, proxies)."""
    return ConnectWiseProvider(timeout=settings.psa_timeout, base_url=settings.cw_api_url)


async def make_bus(settings: Settings) -> EventBus:
    if not settings.redis_url:
        return InMemoryBus()
    bus = RedisBus(settings.redis_url)
    await bus.start()
    return bus


async def build_app(settings: Settings, *, notifiers: list[Notifier] | None = None,
                    assistant: Assistant | None = None, platforms: bool = False) -> App:
    """Database (migrated to head), bus, assistant and engine, ready to serve."""
    db = make_engine(settings.resolved_database_url)
    await upgrade(db)
    bus = await make_bus(settings)
    notifiers = list(notifiers or [])
    deps = Deps(
        uow_factory=SqlUnitOfWorkFactory(db), bus=bus, assistant=assistant or make_assistant(settings),
        notifiers=Notifiers(notifiers), secret_box=make_secret_box(settings), psa=make_psa_provider(settings),
        settings=EngineSettings(history_window=settings.history_window, turn_lease_seconds=settings.turn_lease_seconds,
                                turn_concurrency=settings.turn_concurrency,
                                turn_deadline_seconds=settings.turn_deadline_seconds,
                                writeback_lease_seconds=settings.writeback_lease_seconds),
    )
    engine = Engine(deps)
    app = App(settings=settings, engine=engine, db=db, bus=bus, notifiers=notifiers)
    if platforms:
        from bot.slack_setup import build_slack  # Bolt and the Agents SDK load only when serving

        app.slack = await build_slack(settings, engine, db)
        from bot.teams_setup import build_teams

        app.teams = await build_teams(settings, engine)
        for surface in (app.slack, app.teams):  # each surface hears the engine's events once built
            if surface is not None:
                deps.notifiers.add(surface.notifier)
    return app
