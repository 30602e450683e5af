"""What we read off an inbound Teams activity, as pure functions: who and which tenant, which
conversation (a channel reply chain, a personal chat, a group chat), the text meant for us with the
bot's @mention taken out, our keys for the conversation, and the commands people type.

Activities come back from the inbox as JSON, so everything here works on the SDK's `Activity`
model validated from that JSON; nothing here talks to the network."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity

from adapters.teams.inbound import plain_text
from core.platform import TEAMS

CHANNEL, PERSONAL, GROUP = "channel", "personal", "groupChat"
MAX_KEY_ID = 200  # our keys and thread refs live in 255-character columns
PERIOD_WORDS = frozenset({"7", "7d", "30", "30d", "90", "90d"})


def dump(activity: Activity) -> dict[str, Any]:
    """The activity as the Bot Framework wire JSON, for the inbox."""
    return activity.model_dump(mode="json", by_alias=True, exclude_none=True)


def load(data: dict[str, Any]) -> Activity:
    return Activity.model_validate(data)


def tenant_of(activity: Activity) -> str:
    """Teams puts the tenant on the conversation and in channelData; either will do."""
    tenant = activity.conversation.tenant_id if activity.conversation else None
    if not tenant and isinstance(activity.channel_data, dict):
        tenant = (activity.channel_data.get("tenant") or {}).get("id")
    return str(tenant or "")


def user_id_of(activity: Activity) -> str:
    """The stable id of a person: the AAD object id, else the Teams (29:) id."""
    sender = activity.from_property
    return str((sender.aad_object_id if sender else None) or (sender.id if sender else "") or "")


def scope_of(activity: Activity) -> str:
    kind = (activity.conversation.conversation_type if activity.conversation else None) or PERSONAL
    return kind if kind in (CHANNEL, PERSONAL, GROUP) else GROUP


def conversation_id(activity: Activity) -> str:
    return activity.conversation.id if activity.conversation else ""


def bot_mentioned(activity: Activity) -> bool:
    bot = activity.recipient.id if activity.recipient else None
    return any(_mentioned_id(entity) == bot for entity in activity.entities or []) if bot else False


def clean_text(activity: Activity) -> str:
    """The message as plain text, decoded once here (R38): without the bot's @mention (its entity
    text first, exactly what Teams put in; without entities, a leading `<at>` is the bot's), other
    mentions as the names they show, HTML and entities as characters (adapters/teams/inbound.py)."""
    bot = activity.recipient.id if activity.recipient else None
    own = [shown for entity in activity.entities or []
           if (shown := _mention_text(entity)) and _mentioned_id(entity) == bot]
    return plain_text(activity.text or "", drop=own, drop_leading_mention=not activity.entities)


def _mentioned_id(entity: Any) -> str | None:
    if _field(entity, "type") != "mention":
        return None
    mentioned = _field(entity, "mentioned")
    value = _field(mentioned, "id") if mentioned is not None else None
    return str(value) if value else None


def _mention_text(entity: Any) -> str | None:
    if _field(entity, "type") != "mention":
        return None
    value = _field(entity, "text")
    return str(value) if value else None


def _field(obj: Any, name: str) -> Any:
    """A field of an SDK entity (a model, its extras, or a plain dict); enum values as text."""
    if isinstance(obj, dict):
        value = obj.get(name)
    else:
        value = getattr(obj, name, None)
        extra = getattr(obj, "model_extra", None)
        if value is None and isinstance(extra, dict):
            value = extra.get(name)
    return getattr(value, "value", value)


def _short(conversation: str) -> str:
    if len(conversation) <= MAX_KEY_ID:
        return conversation
    return "#" + hashlib.sha256(conversation.encode()).hexdigest()


def conversation_key(conversation: str) -> str:
    """Our SurfaceRef key for a conversation (a reply chain includes its `;messageid=`)."""
    return f"conv:{_short(conversation)}"


def thread_ref(tenant: str, conversation: str) -> str:
    """A Teams session's thread_ref: `teams:<tenant>:<conversation id>`."""
    return f"{TEAMS}:{tenant[:40]}:{_short(conversation)}"


def conversation_key_of_thread(ref: str | None) -> str | None:
    """The conversation key behind a Teams thread_ref; None for other platforms' threads."""
    parts = (ref or "").split(":", 2)
    if len(parts) != 3 or parts[0] != TEAMS or not parts[2]:
        return None
    return f"conv:{parts[2]}"


@dataclass(frozen=True, kw_only=True)
class Command:
    """A command typed to the bot; free text is no command (it is a turn or a new problem)."""

    name: str
    args: str = ""


def parse_command(text: str) -> Command | None:
    """help · new <problem> · queue · stats [7d|30d|90d] · escalations here · connect <code> · settings.
    Strict shapes, so a turn that merely starts with one of these words stays a turn."""
    words = text.split()
    if not words:
        return None
    first, rest = words[0].lower(), text.strip()[len(words[0]):].strip()
    if first in ("help", "queue", "settings") and not rest:
        return Command(name=first)
    if first == "stats" and (not rest or rest.lower() in PERIOD_WORDS):
        return Command(name="stats", args=rest.lower())
    if first == "escalations" and rest.lower() == "here":
        return Command(name="escalations_here")
    if first == "connect" and len(words) == 2:  # the engine says when the code is malformed
        return Command(name="connect", args=words[1])
    if first == "new":
        return Command(name="new", args=rest)
    return None
