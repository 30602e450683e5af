"""Resolution-note and escalation-package previews (R2, R13, R16).

Previews are cached per (account, kind, session, state_version): asking again at the same version
returns the same text without an LLM call. The LLM call happens outside any transaction.

Only the assistant's notes are cached, and only grounded ones (R13): a draft naming a token its
input does not hold is asked for once more with those tokens listed, and a second such draft gives
way to the deterministic note. A deterministic preview says so and why (`fallback`), and is never
cached, so the next request at the same version asks the assistant again (R16).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

from core.access import Actor, load_member, load_session
from core.assistant.prompts import render_compose_request
from core.assistant.types import AssistantUnavailable, ComposeRequest, FixEntry, NoteBundle
from core.compose import compose_escalation, compose_resolution
from core.deps import Deps
from core.grounding import Check, Token, checker
from core.machines import fix_tried
from core.models import Fix, FixStatus, Session
from core.note_input import with_account_context
from core.ports import UnitOfWork

log = logging.getLogger("rflow.previews")
Kind = Literal["resolve", "escalate"]


ASSISTANT = "assistant"
DETERMINISTIC = "deterministic"


class Fallback(StrEnum):
    """Why a preview was composed deterministically, for each surface to word (R16)."""

    UNAVAILABLE = "unavailable"  # no key, timeout, 5xx, overload, an unusable reply
    GROUNDING = "grounding"  # both drafts stated tokens the input does not hold (R13)


@dataclass(frozen=True, kw_only=True)
class Preview:
    """`composed_by`: "assistant" or "deterministic" (where the text came from); `fallback`: why
    it is deterministic; `fallback_reason`: the adapter's detail when the assistant was unavailable;
    `ungrounded`: what the last rejected draft invented; `regenerated`: the note is a second draft."""

    kind: Kind
    session_id: int
    state_version: int
    markdown: str
    composed_by: str
    cached: bool = False
    fallback: Fallback | None = None
    fallback_reason: str | None = None
    ungrounded: tuple[str, ...] = ()
    regenerated: bool = False

    @property
    def deterministic(self) -> bool:
        return self.composed_by == DETERMINISTIC


class PreviewCache:
    """Bounded LRU, no TTL (R2): the key already changes whenever the content would."""

    def __init__(self, max_entries: int = 5000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, str, int, int], Preview] = OrderedDict()

    def get(self, key: tuple[int, str, int, int]) -> Preview | None:
        preview = self._entries.get(key)
        if preview is not None:
            self._entries.move_to_end(key)
        return preview

    def put(self, key: tuple[int, str, int, int], preview: Preview) -> None:
        self._entries[key] = preview
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def fix_entry(fix: Fix) -> FixEntry:
    return FixEntry(title=fix.title, description=fix.description, confidence=fix.confidence, status=str(fix.status),
                    applied=fix.applied_at is not None, partial_notes=fix.partial_notes, failure_reason=fix.failure_reason)


def tried_line(fix: Fix) -> str:
    outcome = {FixStatus.APPLIED_FAILED: "did not work", FixStatus.APPLIED_PARTIAL: "partly worked",
               FixStatus.APPLIED_SUCCESS: "worked", FixStatus.DISMISSED: "dismissed before trying"}
    words = outcome.get(FixStatus(fix.status), "applied, outcome not yet known" if fix.applied_at else "not tried")
    detail = fix.failure_reason or fix.partial_notes
    return f"{fix.title}: {words}" + (f" ({detail})" if detail else "")


async def build_bundle(uow: UnitOfWork, *, session: Session, kind: Kind) -> NoteBundle:
    """R13: summary, facts, the active fix with its status and times, what was tried."""
    account_id, session_id = session.account_id, session.id or 0
    facts = tuple(f.text for f in await uow.facts.list(account_id=account_id, session_id=session_id))
    fixes = await uow.fixes.list(account_id=account_id, session_id=session_id)
    active = next((f for f in fixes if f.superseded_at is None), None)
    tried = tuple(tried_line(f) for f in fixes if fix_tried(f.status, applied=f.applied_at is not None))
    return NoteBundle(
        kind=kind, session_title=session.title, ticket=session.ticket_ref, facts=facts,
        fix=fix_entry(active) if active else None,
        fix_applied_at=active.applied_at.isoformat() if active and active.applied_at else None,
        fix_verified_at=active.verified_at.isoformat() if active and active.verified_at else None,
        script_runs=(), tried=tried,
    )


def compose_deterministic(bundle: NoteBundle) -> str:
    return compose_resolution(bundle) if bundle.kind == "resolve" else compose_escalation(bundle)


def generation_input(bundle: NoteBundle) -> str:
    """What the compose request gives the model to state (R13): the grounding check's source."""
    _, messages = render_compose_request(ComposeRequest(bundle=bundle))
    return "\n".join(block["text"] for message in messages for block in message["content"]
                     if block.get("type") == "text")  # fmt: skip


def _described(tokens: tuple[Token, ...]) -> str:
    return ", ".join(f"{t.kind}:{t.text!r}" for t in tokens)


class PreviewService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.cache = PreviewCache(deps.settings.preview_cache_size)

    async def preview(self, *, actor: Actor, session_id: int, kind: Kind) -> Preview:
        """R2: at an unchanged state_version the cached text comes back (one read, no LLM call)."""
        async with self.deps.uow_factory() as uow:
            version = await uow.sessions.version_for_member(account_id=actor.account_id, session_id=session_id,
                                                            member_id=actor.member_id)
            cached = self.cache.get((actor.account_id, kind, session_id, version)) if version is not None else None
            if cached is not None:
                return replace(cached, cached=True)
            await load_member(uow, actor)  # the slow path says precisely what is wrong
            session = await load_session(uow, actor, session_id)
            key = (actor.account_id, kind, session_id, session.state_version)
            bundle = await with_account_context(uow, await build_bundle(uow, session=session, kind=kind), session=session)
        preview = await self._compose(bundle, session_id=session_id, version=key[3])
        if not preview.deterministic:  # R16: a fallback is never cached as the assistant's note
            self.cache.put(key, preview)
        return preview

    async def _compose(self, bundle: NoteBundle, *, session_id: int, version: int) -> Preview:
        base = Preview(kind=bundle.kind, session_id=session_id, state_version=version, markdown="", composed_by=ASSISTANT)
        try:
            return await self._grounded(bundle, base)
        except AssistantUnavailable as exc:
            log.info("composing %s deterministically: %s", bundle.kind, exc.reason)
            return replace(base, markdown=compose_deterministic(bundle), composed_by=DETERMINISTIC,
                           fallback=Fallback.UNAVAILABLE, fallback_reason=exc.reason)

    async def _grounded(self, bundle: NoteBundle, base: Preview) -> Preview:
        """R13: a draft, checked; once more with what it invented listed; then the fallback."""
        check: Check = checker(generation_input(bundle))
        where = f"{bundle.kind} preview of session {base.session_id} v{base.state_version}"
        first = await self.deps.assistant.compose(ComposeRequest(bundle=bundle))
        invented = check(first.markdown)
        if not invented:
            return replace(base, markdown=first.markdown, composed_by=first.composed_by)
        log.warning("%s: the draft states %d token(s) not in its input, asking again: %s",
                    where, len(invented), _described(invented))  # fmt: skip
        rejected = tuple(t.text for t in invented)
        second = await self.deps.assistant.compose(ComposeRequest(bundle=bundle, rejected=rejected))
        still = check(second.markdown)
        if not still:
            return replace(base, markdown=second.markdown, composed_by=second.composed_by, regenerated=True)
        log.warning("%s: the second draft states %d token(s) not in its input, composing deterministically: %s",
                    where, len(still), _described(still))  # fmt: skip
        return replace(base, markdown=compose_deterministic(bundle), composed_by=DETERMINISTIC,
                       fallback=Fallback.GROUNDING, ungrounded=tuple(t.text for t in still))
