"""The wire shapes of Teams bot streaming and of the typing indicator, as pure functions.

Teams streams a bot's reply in a 1:1 chat as `typing` activities that carry a `streaminfo` entity,
then one `message` that ends the stream (learn.microsoft.com/microsoftteams/platform/bots/streaming-ux,
"Stream message through REST API"): the first request (streamType `informative` or `streaming`,
streamSequence 1, no streamId) answers 201 with the stream's id; later ones name that streamId with
an increasing streamSequence and, for `streaming`, the whole text so far (each update must contain
the previous one); the final `message` has streamType `final`, the streamId and no streamSequence.
These are the activities the Agents SDK's `StreamingResponse` builds (microsoft_agents.hosting.core
.app.streaming.streaming_response: `queue_informative_update`, `_queue_next_chunk`,
`_create_final_message`). We send them ourselves, proactively through `TeamsSender`, because the
SDK's class lives inside one inbound turn, sends deltas it adds up itself, and on a refused stream
sends nothing at all, where we must still deliver the (authoritative) reply once.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, StreamInfo

from adapters.teams.pacing import RetryPolicy, TeamsApiError

STREAM_INTERVAL = 1.0  # seconds between requests on one stream: Teams asks for about one a second
TYPING_EVERY = 3.0  # a typing indicator shows for about 3 s; senders should not send more often
STREAM_LIMIT_BYTES = 28_000  # what one streamed message may hold (UTF-16), as `message_chunks` cuts
# A stream update is only worth its moment: one try, the next update carries the newer text anyway.
STREAM_RETRY = RetryPolicy(attempts=1)
TRANSIENT_STATUSES = frozenset({412, 429, 502, 504})


def typing() -> Activity:
    """The plain typing indicator (Bot Framework `typing` activity), in any conversation type."""
    return Activity(type=ActivityTypes.typing)


def informative(text: str, *, sequence: int, stream_id: str | None = None) -> Activity:
    """An informative update: what the bot is doing, before any of the reply (at most 1000 chars)."""
    return _update(text[:1000], stream_type="informative", sequence=sequence, stream_id=stream_id)


def streaming(text: str, *, sequence: int, stream_id: str | None) -> Activity:
    """A streaming update: the whole reply so far (Teams shows each update in place of the last)."""
    return _update(text, stream_type="streaming", sequence=sequence, stream_id=stream_id)


def final(text: str, *, stream_id: str) -> Activity:
    """The message that ends the stream and stays in the chat; no streamSequence, per the docs."""
    return Activity(type=ActivityTypes.message, id=stream_id, text=text,
                    entities=[StreamInfo(stream_type="final", stream_id=stream_id)])


def _update(text: str, *, stream_type: str, sequence: int, stream_id: str | None) -> Activity:
    info = StreamInfo(stream_type=stream_type, stream_sequence=sequence)
    fields: dict[str, Any] = {"type": ActivityTypes.typing, "text": text, "entities": [info]}
    if stream_id:
        info.stream_id = stream_id
        fields["id"] = stream_id  # as the SDK does once the stream has its id
    return Activity(**fields)


def transient(exc: Exception) -> bool:
    """A stream request that may go through next time (throttled, a gateway hiccup, no connection);
    anything else (403 ContentStreamNotAllowed, 400 BadRequest, 404) ends streaming for this reply."""
    if isinstance(exc, TeamsApiError):
        return exc.status is None or exc.status in TRANSIENT_STATUSES
    return True  # aiohttp.ClientError, a timeout: nothing said the stream is refused


def reason(exc: Exception) -> str:
    """What the connector said, for the log: the status and the error body (ContentStreamNotAllowed…)."""
    cause = exc.__cause__
    detail = getattr(cause, "message", None) if cause is not None else None
    return f"{exc} {detail}".strip() if detail else str(exc) or type(exc).__name__
