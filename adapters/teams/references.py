"""Conversation references as plain JSON, so storage can keep them without knowing the SDK.

The dict is the Bot Framework wire shape of a ConversationReference (`activityId`, `user`, `bot`,
`conversation`, `channelId`, `serviceUrl`, `locale`): what every Bot Framework tool reads, and stable
across SDK versions.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ConversationReference

THREAD_MARKER = ";messageid="


def conversation_reference(activity: Activity) -> dict[str, Any]:
    """Where to answer `activity` later: JSON-serialisable, for our database."""
    return reference_to_dict(activity.get_conversation_reference())


def reference_to_dict(reference: ConversationReference) -> dict[str, Any]:
    data = reference.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.pop("requestId", None)  # one inbound request's id; meaningless once stored
    return data


def reference_from_dict(data: dict[str, Any]) -> ConversationReference:
    """The inverse of `conversation_reference`; raises ValueError on a dict that is not one."""
    reference = ConversationReference.model_validate(data)
    if not reference.service_url or not reference.conversation or not reference.conversation.id:
        raise ValueError("a conversation reference needs serviceUrl and conversation.id")
    return reference


def channel_of(conversation_id: str) -> str:
    """The channel a reply chain lives in: Teams names a chain `<channel id>;messageid=<root id>`."""
    return conversation_id.split(THREAD_MARKER, 1)[0]
