"""Proactive Teams messages from a stored conversation reference: replies, card updates, escalation
posts, personal chats with seniors, and member lookups for cross-platform email matching.

Every call runs as an SDK proactive turn (`CloudAdapter.continue_conversation` or
`create_conversation`), so the SDK builds the connector client and its token; each call is paced per
conversation and retried per Teams' guidance (`pacing.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    Channels,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AuthenticationConstants, TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from adapters.teams.auth import TeamsAuthSettings
from adapters.teams.connector import build_cloud_adapter
from adapters.teams.pacing import ConversationPacer, RetryPolicy, TeamsApiError, call_with_retries
from adapters.teams.references import channel_of, reference_from_dict, reference_to_dict
from adapters.teams.transport import ADAPTIVE_CARD_CONTENT_TYPE

__all__ = ["TeamsApiError", "TeamsMember", "TeamsSender"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class TeamsMember:
    """What Teams says about a user; `email` falls back to the UPN, which Teams fills for every user."""

    id: str
    name: str | None
    email: str | None
    user_principal_name: str | None
    aad_object_id: str | None


class TeamsSender:
    """Sends, updates and looks up through the Bot Connector named by a stored reference's serviceUrl."""

    def __init__(self, settings: TeamsAuthSettings, *, adapter: CloudAdapter | None = None,
                 retry: RetryPolicy | None = None, pacer: ConversationPacer | None = None) -> None:
        self._adapter = adapter or build_cloud_adapter(settings)
        self._app_id = settings.app_id or ""
        self._retry = retry or RetryPolicy()
        self._pacer = pacer or ConversationPacer()

    async def send(self, ref: dict[str, Any], *, text: str | None = None,
                   card: dict[str, Any] | None = None) -> str:
        """Post a message into the referenced conversation (or reply chain); returns its activity id."""
        reference = reference_from_dict(ref)
        activity = _outgoing(reference, text=text, card=card)

        async def op(connector: ConnectorClientBase) -> str:
            response = await connector.conversations.send_to_conversation(reference.conversation.id, activity)
            return str(response.id)

        return await self._continue(reference, op, what="send")

    async def send_activity(self, ref: dict[str, Any], activity: Activity, *,
                            retry: RetryPolicy | None = None) -> str | None:
        """Send a prepared activity (typing, a stream update, a stream's final message) into the
        referenced conversation; returns the id the connector answered with (a stream's id on its
        first request; later stream requests answer 202 without one)."""
        reference = reference_from_dict(ref)
        _address(activity, reference)

        async def op(connector: ConnectorClientBase) -> str | None:
            response = await connector.conversations.send_to_conversation(reference.conversation.id, activity)
            return str(response.id) if response.id else None

        return await self._continue(reference, op, what=f"send {activity.type}", retry=retry)

    async def update(self, ref: dict[str, Any], activity_id: str, *, card: dict[str, Any] | None = None,
                     text: str | None = None) -> None:
        """Replace a message we sent (the card of a task lane or an escalation post) for everyone."""
        reference = reference_from_dict(ref)
        activity = _outgoing(reference, text=text, card=card)
        activity.id = activity_id

        async def op(connector: ConnectorClientBase) -> None:
            await connector.conversations.update_activity(reference.conversation.id, activity_id, activity)

        await self._continue(reference, op, what="update")

    async def send_to_channel(self, channel_ref: dict[str, Any], card: dict[str, Any], *,
                              text: str | None = None) -> tuple[dict[str, Any], str]:
        """Start a new reply chain in the referenced channel; returns the chain's reference and the post's id."""
        reference = reference_from_dict(channel_ref)
        channel_id = channel_of(reference.conversation.id)
        tenant_id = reference.conversation.tenant_id
        channel_data: dict[str, Any] = {"channel": {"id": channel_id}}
        if tenant_id:
            channel_data["tenant"] = {"id": tenant_id}
        params = _parameters(is_group=True, channel_data=channel_data, agent=reference.agent, tenant_id=tenant_id,
                             activity=_outgoing(None, text=text, card=card))
        conversation_id, activity_id = await self._create(reference.service_url, params, pace_key=channel_id,
                                                          what="send_to_channel")
        if not activity_id:
            raise TeamsApiError("send_to_channel: the connector returned no activity id")
        thread = _reference(service_url=reference.service_url, agent=reference.agent, activity_id=activity_id,
                            conversation={"id": conversation_id, "isGroup": True, "conversationType": "channel",
                                          "tenantId": tenant_id})
        return thread, activity_id

    async def create_personal_chat(self, service_url: str, tenant_id: str, user_id: str) -> dict[str, Any]:
        """The 1:1 chat between the bot and a user (a `29:` id or an AAD object id); Teams returns the
        existing chat when there is one, and needs the app installed for that user."""
        bot = ChannelAccount(id=f"28:{self._app_id}") if self._app_id else None
        user = ChannelAccount(id=user_id)
        params = _parameters(is_group=False, members=[user], tenant_id=tenant_id, agent=bot,
                             channel_data={"tenant": {"id": tenant_id}})
        conversation_id, _ = await self._create(service_url, params, pace_key=None, what="create_personal_chat")
        return _reference(service_url=service_url, agent=bot, user=user,
                          conversation={"id": conversation_id, "isGroup": False, "conversationType": "personal",
                                        "tenantId": tenant_id})

    async def get_member(self, ref: dict[str, Any], user_id: str) -> TeamsMember | None:
        """Look a user up in the referenced conversation (its channel, for a reply chain); None if absent."""
        reference = reference_from_dict(ref)
        conversation_id = channel_of(reference.conversation.id)

        async def op(connector: ConnectorClientBase) -> TeamsMember:
            if isinstance(connector, TeamsConnectorClient):
                account: Any = await connector.get_conversation_member(conversation_id, user_id)
            else:
                account = await connector.conversations.get_conversation_member(conversation_id, user_id)
            return _member(account)

        try:
            return await self._continue(reference, op, what="get_member")
        except TeamsApiError as exc:
            if exc.status == 404:  # MemberNotFoundInConversation
                return None
            raise

    async def _continue(self, reference: ConversationReference,
                        op: Callable[[ConnectorClientBase], Awaitable[T]], *, what: str,
                        retry: RetryPolicy | None = None) -> T:
        conversation_id = reference.conversation.id

        async def once() -> T:
            results: list[T] = []

            async def turn(context: TurnContext) -> None:
                connector = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
                if connector is None:
                    raise RuntimeError("the SDK gave the proactive turn no connector client")
                results.append(await op(connector))

            await self._adapter.continue_conversation(self._app_id, reference.get_continuation_activity(), turn)
            return results[0]

        return await call_with_retries(once, what=what, policy=retry or self._retry,
                                       pace=lambda: self._pacer.acquire(conversation_id))

    async def _create(self, service_url: str | None, params: ConversationParameters, *,
                      pace_key: str | None, what: str) -> tuple[str, str | None]:
        if not service_url:
            raise ValueError(f"{what}: a serviceUrl is required")

        async def once() -> tuple[str, str | None]:
            created: list[tuple[str, str | None]] = []

            async def turn(context: TurnContext) -> None:
                # The SDK hands the connector's answer over as a synthetic `CreateConversation` event.
                created.append((context.activity.conversation.id, context.activity.id))

            await self._adapter.create_conversation(self._app_id, Channels.ms_teams, service_url,
                                                    AuthenticationConstants.AGENTS_SDK_SCOPE, params, turn)
            return created[0]

        key = pace_key
        conversation_id, activity_id = await call_with_retries(
            once, what=what, policy=self._retry,
            pace=(lambda: self._pacer.acquire(key)) if key is not None else None)
        # Without a first message the SDK invents an activity id (a uuid); there is no post to name.
        return conversation_id, activity_id if params.activity is not None else None


def _outgoing(reference: ConversationReference | None, *, text: str | None,
              card: dict[str, Any] | None) -> Activity:
    if text is None and card is None:
        raise ValueError("a Teams message needs text or a card")
    fields: dict[str, Any] = {"type": ActivityTypes.message, "text": text}
    if card is not None:
        fields["attachments"] = [Attachment(content_type=ADAPTIVE_CARD_CONTENT_TYPE, content=card)]
    activity = Activity(**{name: value for name, value in fields.items() if value is not None})
    if reference is not None:
        _address(activity, reference)
    return activity


def _address(activity: Activity, reference: ConversationReference) -> None:
    """From the bot, to the referenced conversation. No replyToId: the conversation id already names
    the reply chain."""
    for name, value in (("from_property", reference.agent), ("recipient", reference.user),
                        ("conversation", reference.conversation), ("channel_id", reference.channel_id),
                        ("service_url", reference.service_url)):
        if value is not None:
            setattr(activity, name, value)


def _parameters(**fields: Any) -> ConversationParameters:
    return ConversationParameters.model_validate({k: v for k, v in fields.items() if v is not None})


def _reference(*, service_url: str | None, conversation: dict[str, Any], agent: ChannelAccount | None,
               user: ChannelAccount | None = None, activity_id: str | None = None) -> dict[str, Any]:
    """A new conversation's reference in our stored shape (Teams channel id, the bot as sender)."""
    data: dict[str, Any] = {"channelId": Channels.ms_teams.value, "serviceUrl": service_url,
                            "activityId": activity_id,
                            "conversation": {k: v for k, v in conversation.items() if v is not None}}
    for key, account in (("bot", agent), ("user", user)):
        if account is not None:
            data[key] = account.model_dump(mode="json", by_alias=True, exclude_none=True)
    return reference_to_dict(reference_from_dict({k: v for k, v in data.items() if v is not None}))


def _member(account: Any) -> TeamsMember:
    extra = account.model_extra or {}
    upn = getattr(account, "user_principal_name", None) or extra.get("userPrincipalName")
    email = getattr(account, "email", None) or extra.get("email") or upn
    return TeamsMember(id=str(account.id), name=account.name, email=email, user_principal_name=upn,
                       aad_object_id=getattr(account, "aad_object_id", None))
