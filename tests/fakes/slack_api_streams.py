"""The "AI app" methods of the fake Slack Web API: the thread status and streamed messages.

Sources (checked 2026-12):
- `assistant.threads.setStatus(channel_id, thread_ts, status, loading_messages≤10)`: all three
  required; an empty status clears it; Slack also clears it when the app posts in the thread or
  after two minutes (docs.slack.dev/reference/methods/assistant.threads.setStatus, changelog
  2026-03-05). slack_sdk sends it as JSON (web/async_client.py `assistant_threads_setStatus`).
- `chat.startStream(channel, thread_ts, markdown_text | chunks, recipient_team_id,
  recipient_user_id)` answers `{ok, channel, ts}`; the recipient ids are "required when streaming to
  channels" (docs.slack.dev/reference/methods/chat.startStream). Without them Slack answers
  `missing_recipient_team_id` / `missing_recipient_user_id` (seen live, openclaw/openclaw#21218).
- `chat.appendStream(channel, ts, markdown_text | chunks)` answers `{ok, channel, ts}`;
  `chat.stopStream(channel, ts, markdown_text?, chunks?, blocks?, metadata?)` answers
  `{ok, channel, ts, message}` with `message.streaming_state` (@slack/web-api
  ChatStopStreamResponse). `markdown_text` is at most 12,000 characters per call.
- slack_sdk 3.48's `AsyncChatStream` (web/async_chat_stream.py) sends its text as `chunks` of
  `{"type": "markdown_text", "text": ...}`, our adapter as `markdown_text`: both are accepted.
- A stream ends by itself about five minutes after it started; appends and stops then answer
  `message_not_in_streaming_state` (live notes in NousResearch/hermes-agent#59010); `stream_ttl`
  plays that.
"""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.slack_api_state import SlackError, SlackState, missing

MARKDOWN_TEXT = 12_000
LOADING_MESSAGES = 10
IN_PROGRESS, COMPLETED = "in_progress", "completed"


def _required(args: dict[str, Any], *names: str) -> None:
    for name in names:
        if args.get(name) in (None, ""):
            raise missing(name)


def _stream_text(args: dict[str, Any], *, required: bool) -> str:
    """markdown_text plus any markdown_text chunks, in order; Slack's limits on each."""
    text = args.get("markdown_text")
    parts: list[str] = []
    if text is not None:
        if not isinstance(text, str):
            raise SlackError("invalid_arguments")
        if len(text) > MARKDOWN_TEXT:
            raise SlackError("msg_too_long")
        parts.append(text)
    chunks = args.get("chunks")
    if chunks is not None:
        if not isinstance(chunks, list):
            raise SlackError("invalid_chunks")
        for chunk in chunks:
            if not isinstance(chunk, dict) or "type" not in chunk:
                raise SlackError("invalid_chunks")
            if chunk["type"] == "markdown_text":
                if not isinstance(chunk.get("text"), str) or len(chunk["text"]) > MARKDOWN_TEXT:
                    raise SlackError("invalid_chunks")
                parts.append(chunk["text"])
    if required and text is None and chunks is None:
        raise missing("markdown_text")
    return "".join(parts)


class StreamMethods(SlackState):
    def stream_methods(self) -> dict[str, Any]:
        return {"assistant.threads.setStatus": self._set_status, "chat.startStream": self._start_stream,
                "chat.appendStream": self._append_stream, "chat.stopStream": self._stop_stream}  # fmt: skip

    def _set_status(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        _required(args, "channel_id", "thread_ts")
        if not isinstance(args.get("status"), str):
            raise missing("status")
        loading = args.get("loading_messages")
        if loading is not None and (not isinstance(loading, list) or len(loading) > LOADING_MESSAGES):
            raise SlackError("invalid_arguments",
                             response_metadata={"messages": ["[ERROR] no more than 10 items allowed [json-pointer:/loading_messages]"]})
        self.set_status(str(args["channel_id"]), str(args["thread_ts"]), args["status"], "assistant.threads.setStatus")
        return {"ok": True}

    def _start_stream(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        _required(args, "channel", "thread_ts")
        channel, thread_ts = str(args["channel"]), str(args["thread_ts"])
        if not self.is_dm(channel):
            if not args.get("recipient_team_id"):
                raise SlackError("missing_recipient_team_id")
            if not args.get("recipient_user_id"):
                raise SlackError("missing_recipient_user_id")
        if args.get("recipient_user_id") and args["recipient_user_id"] not in self.users:
            raise SlackError("user_not_found")
        text = _stream_text(args, required=False)
        ts = self.next_ts()
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id,
                   "team": self.tokens.get(token or "", self.team_id), "ts": ts, "thread_ts": thread_ts, "text": text,
                   "streaming_state": IN_PROGRESS, "recipient_user_id": args.get("recipient_user_id"),
                   "recipient_team_id": args.get("recipient_team_id")}  # fmt: skip
        self.messages.setdefault(channel, {})[ts] = message
        self.stream_started[(channel, ts)] = time.monotonic()
        self.set_status(channel, thread_ts, "", "chat.startStream")
        return {"ok": True, "channel": channel, "ts": ts}

    def _streaming(self, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        _required(args, "channel", "ts")
        channel, ts = str(args["channel"]), str(args["ts"])
        message = self.messages.get(channel, {}).get(ts)
        if message is None:
            raise SlackError("message_not_found")
        started = self.stream_started.get((channel, ts))
        if started is not None and time.monotonic() - started > self.stream_ttl:
            message["streaming_state"] = COMPLETED  # Slack ended it; the text so far stays
        if message.get("streaming_state") != IN_PROGRESS:
            raise SlackError("message_not_in_streaming_state")
        return channel, message

    def _append_stream(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, message = self._streaming(args)
        message["text"] += _stream_text(args, required=True)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _stop_stream(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        from tests.fakes.slack_api_methods import MESSAGE_BLOCKS, check_blocks

        channel, message = self._streaming(args)
        text = _stream_text(args, required=False)
        blocks = args.get("blocks")
        check_blocks(blocks, MESSAGE_BLOCKS)
        message["text"] += text
        if blocks:
            message["blocks"] = [*(message.get("blocks") or []), *blocks]  # "rendered at the bottom"
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        message["streaming_state"] = COMPLETED
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": dict(message)}
