"""`AnthropicAssistant`: the `core.ports.services.Assistant` port over the official Anthropic SDK.

Why it looks like this:
- Every answer comes through a forced tool call, so the reply is structured and validated (R33).
- The main turn streams (`messages.stream`): long tool inputs never hit the non-streaming limits,
  a stalled stream times out per read instead of all at once, and the reply text is handed to
  `on_text` as it grows (R37, `streaming.py`). Tool input is applied only from the final message.
- Prompt caching (R32): breakpoint 1 on the system block (tools + system), breakpoint 2 on the
  last message of the stable history, which `render_conversation` keeps byte-identical.
- R16: any failure, however it surfaces, becomes `AssistantUnavailable`; SDK types stay here.
- One wall-clock deadline around each call, because the SDK honours any `retry-after` value.
- Long conversations (issue 12): an answer cut at `max_tokens` is asked again once with twice the
  output budget (up to MAX_OUTPUT_TOKENS) rather than continued from a prefill, because a forced
  tool call cannot be resumed mid-input (a prefilled assistant turn must end in text, and the
  partial tool_use would need a tool_result). "Raise max_tokens or continue the response" is the
  documented remedy (platform.claude.com/docs/en/build-with-claude/handling-stop-reasons). Of a
  main turn still cut after that, the reply so far is kept (`salvage_turn`), never lost. A prompt
  the API finds too long is rendered again with the TIGHT budget and sent once more; after that
  the turn is unavailable with its own reason (failures.CONTEXT_TOO_LONG), as R16 says.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anthropic

from adapters.anthropic import failures
from adapters.anthropic.streaming import GrowingPrefix, ReplyStream
from adapters.anthropic.usage import CacheWatch, CallUsage
from core.assistant.budget import STANDARD, TIGHT, PromptBudget
from core.assistant.prompts import (
    FACT_SYNTHESIS,
    MAIN,
    render_compose_request,
    render_conversation,
    render_fact_request,
)
from core.assistant.tools import RECORD_FACT, UPDATE_SESSION, WRITE_NOTE, tool_definitions
from core.assistant.types import (
    AssistantContext,
    AssistantTurn,
    AssistantUnavailable,
    ComposedText,
    ComposeRequest,
    FactSynthesisRequest,
    ReplyListener,
)
from core.assistant.validation import parse_fact, parse_note, parse_turn, salvage_turn

DEFAULT_MAIN_MODEL = "claude-sonnet-4-6"
DEFAULT_FAST_MODEL = "claude-haiku-4-5"
FACT_MAX_TOKENS = 512
MAX_OUTPUT_TOKENS = 16_384
"""The cap of the output budget when an answer cut at max_tokens is asked again with twice its
budget. It stays below the size the SDK refuses to send unstreamed (about 21k tokens)."""
EPHEMERAL: dict[str, str] = {"type": "ephemeral"}

T = TypeVar("T")


def _system(text: str, *, cache: bool) -> list[dict[str, Any]]:
    block: dict[str, Any] = {"type": "text", "text": text}
    if cache:
        block["cache_control"] = dict(EPHEMERAL)
    return [block]


def _forced(name: str) -> dict[str, Any]:
    return {"type": "tool", "name": name, "disable_parallel_tool_use": True}


def output_budgets(first: int) -> tuple[int, ...]:
    """The max_tokens of each attempt: the configured one, then once twice that, up to the cap."""
    larger = min(first * 2, MAX_OUTPUT_TOKENS)
    return (first, larger) if larger > first else (first,)


def _tool_input(message: Any, name: str) -> dict[str, Any]:
    """The input of the forced tool call, or the reason there is none."""
    if message.stop_reason == "max_tokens":
        raise failures.cut_off()
    if message.stop_reason == "refusal":
        raise AssistantUnavailable(failures.REFUSED)
    for block in message.content:
        if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == name:
            if not isinstance(block.input, dict):
                raise AssistantUnavailable(failures.MALFORMED)
            return block.input
    raise AssistantUnavailable(failures.NO_TOOL_ANSWER)


class AnthropicAssistant:
    """The assistant on Anthropic's Messages API. Every method raises only `AssistantUnavailable`."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        main_model: str = DEFAULT_MAIN_MODEL,
        fast_model: str = DEFAULT_FAST_MODEL,
        timeout: float = 60.0,
        max_retries: int = 2,
        max_tokens: int = 4096,
        deadline: float | None = None,
        strict_tools: bool = True,
    ) -> None:
        """`base_url` None means the SDK default (or ANTHROPIC_BASE_URL). `deadline` caps one call
        including retries and their waits; by default each attempt's timeout plus backoff.
        `strict_tools=False` drops `strict` from the tools, for a model that does not accept it."""
        self._api_key = api_key or None
        self.main_model = main_model
        self.fast_model = fast_model
        self.max_tokens = max_tokens
        # The margin lets the SDK's own per-attempt timeout fire first; the deadline only cuts
        # retry waits short (the SDK sleeps for any retry-after the server sends).
        self.deadline = deadline if deadline is not None else (timeout + 1.0) * (max_retries + 1) + 10.0 * max_retries
        self.strict_tools = strict_tools
        self.cache_watch = CacheWatch()
        self._client: anthropic.AsyncAnthropic | None = None
        if self._api_key is not None:
            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
            )

    @property
    def enabled(self) -> bool:
        """True whenever a key was given; without one every call is unavailable (R16)."""
        return self._client is not None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def respond(self, context: AssistantContext, on_text: ReplyListener | None = None) -> AssistantTurn:
        """The validated turn; meanwhile `on_text` gets the reply so far (a growing prefix). A
        prompt the model cannot take is shortened to the TIGHT budget and sent once more."""
        shown = GrowingPrefix(on_text)

        async def run() -> AssistantTurn:
            try:
                return await self._turn(context, STANDARD, shown)
            except (anthropic.APIStatusError, AssistantUnavailable) as error:
                if not failures.is_context_overflow(error):
                    raise
                failures.log.warning("assistant respond: the prompt did not fit the context window; "
                                     "sending it once more, shortened")  # fmt: skip
            return await self._turn(context, TIGHT, shown)

        return await self._guarded("respond", run)

    async def _turn(self, context: AssistantContext, budget: PromptBudget, shown: GrowingPrefix) -> AssistantTurn:
        rendered = render_conversation(context, budget)
        messages = copy.deepcopy(rendered.messages)
        if rendered.stable_count:
            messages[rendered.stable_count - 1]["content"][-1]["cache_control"] = dict(EPHEMERAL)
        params = {
            "model": self.main_model,
            "max_tokens": self.max_tokens,
            "system": _system(MAIN, cache=True),
            "tools": self._tools(UPDATE_SESSION),
            "tool_choice": _forced(UPDATE_SESSION),
            "messages": messages,
        }
        watchers: list[ReplyStream] = []

        def watcher() -> ReplyStream:
            watchers.append(ReplyStream(tool=UPDATE_SESSION, on_text=shown.offer))
            return watchers[-1]

        message = await self._complete("respond", params, stream=watcher, cacheable=True)
        if message.stop_reason == "max_tokens":  # even the larger budget was not enough: keep the reply
            try:
                return salvage_turn(watchers[-1].reply)
            except AssistantUnavailable:
                raise failures.cut_off() from None
        return parse_turn(_tool_input(message, UPDATE_SESSION))

    async def synthesize_fact(self, request: FactSynthesisRequest) -> str:
        """The fact sentence, or "" when the conversation confirms nothing (the engine tells the
        engineer so, R4)."""

        async def run() -> str:
            params = {
                "model": self.fast_model,
                "max_tokens": min(self.max_tokens, FACT_MAX_TOKENS),
                "system": _system(FACT_SYNTHESIS, cache=False),
                "tools": self._tools(RECORD_FACT),
                "tool_choice": _forced(RECORD_FACT),
                "messages": render_fact_request(request),
            }
            message = await self._complete("synthesize_fact", params, stream=None, cacheable=False)
            return parse_fact(_tool_input(message, RECORD_FACT)) or ""

        return await self._guarded("synthesize_fact", run)

    async def compose(self, request: ComposeRequest) -> ComposedText:
        kind = request.bundle.kind

        async def run() -> ComposedText:
            system, messages = render_compose_request(request)
            params = {
                "model": self.main_model,
                "max_tokens": self.max_tokens,
                "system": _system(system, cache=False),
                "tools": self._tools(WRITE_NOTE),
                "tool_choice": _forced(WRITE_NOTE),
                "messages": messages,
            }
            message = await self._complete(f"compose_{kind}", params, stream=None, cacheable=False)
            markdown = parse_note(_tool_input(message, WRITE_NOTE), kind)
            return ComposedText(markdown=markdown, composed_by="assistant")

        return await self._guarded(f"compose_{kind}", run)

    def _tools(self, name: str) -> list[dict[str, Any]]:
        definitions = tool_definitions(name)
        if not self.strict_tools:
            for definition in definitions:
                definition.pop("strict", None)
        return definitions

    async def _guarded(self, purpose: str, run: Callable[[], Awaitable[T]]) -> T:
        """R16: nothing but `AssistantUnavailable` leaves this adapter."""
        if self._client is None:
            raise AssistantUnavailable(failures.NOT_CONFIGURED)
        try:
            return await run()
        except AssistantUnavailable as error:
            failures.log.warning("assistant %s unusable: %s", purpose, error.reason)
            raise
        except Exception as error:  # noqa: BLE001 - the port promises one exception type
            raise failures.unavailable_from(error, purpose=purpose) from error

    async def _complete(
        self, purpose: str, params: dict[str, Any], *, stream: Callable[[], ReplyStream] | None, cacheable: bool
    ) -> Any:
        """The answer, asked again once with twice the output budget when it hit max_tokens; the
        last message when even that was cut (the caller decides what is left of it)."""
        budgets = output_budgets(int(params["max_tokens"]))
        message: Any = None
        for attempt, max_tokens in enumerate(budgets):
            watcher = stream() if stream is not None else None
            message = await self._call(purpose, {**params, "max_tokens": max_tokens}, stream=watcher,
                                       cacheable=cacheable)  # fmt: skip
            if message.stop_reason == failures.CONTEXT_WINDOW_STOP:
                raise failures.context_too_long()
            if message.stop_reason != "max_tokens":
                return message
            if attempt + 1 < len(budgets):
                failures.log.warning("assistant %s: the answer hit max_tokens=%d; asking again with %d",
                                     purpose, max_tokens, budgets[attempt + 1])  # fmt: skip
        failures.log.warning("assistant %s: the answer hit max_tokens=%d again", purpose, budgets[-1])
        return message

    async def _call(
        self, purpose: str, params: dict[str, Any], *, stream: ReplyStream | None, cacheable: bool
    ) -> Any:
        """One call under the deadline; with `stream` it streams and shows each event to it."""
        assert self._client is not None
        started = time.monotonic()
        async with asyncio.timeout(self.deadline):
            if stream is not None:
                async with self._client.messages.stream(**params) as events:
                    async for event in events:
                        stream.on_event(event)
                    try:
                        message = await events.get_final_message()
                    except AssertionError:  # the SDK's way of saying the stream held no message
                        message = None
            else:
                message = await self._client.messages.create(**params)
        if message is None or not hasattr(message, "usage"):
            raise AssistantUnavailable(failures.MALFORMED)
        duration_ms = round((time.monotonic() - started) * 1000)
        usage = CallUsage.from_sdk(str(params["model"]), message.usage)
        self.cache_watch.record(purpose=purpose, usage=usage, duration_ms=duration_ms, cacheable=cacheable)
        return message
