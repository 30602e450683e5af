"""What the fake Messages API checks and how it caches: request validation as the real API does it
(the mistakes our code could make), and the prompt-cache simulation (R32).

Context window: a request whose prompt (or prompt plus max_tokens) exceeds the window gets the
API's 400 invalid_request_error with its real message (`context_refusal`), before any reply is
taken from the queue, as the API refuses before generating.

Caching: the request is flattened into blocks (tools, system, messages); a prefix is written at
each `cache_control` breakpoint when it holds at least `min_cacheable_tokens` (tokens = JSON chars
/ 4, as the brief estimates), and read back on a later request whose prefix matches at a block
boundary up to 20 blocks before one of its breakpoints, as the API looks back.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.stand_in.replies import context_limit_message, prompt_too_long_message

DEFAULT_MIN_CACHEABLE_TOKENS = 2048  # claude-sonnet-4-6 in practice (PLATFORM_NOTES §3)
LOOKBACK_BLOCKS = 20
MAX_BREAKPOINTS = 4


class InvalidRequest(Exception):
    pass


CONTEXT_WINDOW = 200_000  # claude-sonnet-4-6 and claude-haiku-4-5 (platform.claude.com/docs/en/about-claude/models)


def tokens(value: Any) -> int:
    return max(1, len(json.dumps(value, sort_keys=True)) // 4)


def prompt_tokens(body: dict[str, Any]) -> int:
    """The request's input size as the fake counts it (the same count as its usage)."""
    return sum(tokens({k: v for k, v in block.items() if k != "cache_control"}) for _, block in _blocks(body))


def context_refusal(body: dict[str, Any], window: int) -> str | None:
    """The message of the 400 invalid_request_error the API answers a request that does not fit
    the context window with, or None when it fits. Both shapes are quoted in replies.py."""
    size = prompt_tokens(body)
    if size > window:
        return prompt_too_long_message(size, window)
    if size + int(body["max_tokens"]) > window:
        return context_limit_message(size, int(body["max_tokens"]), window)
    return None


def _blocks(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, block) in the API's prefix order: tools, then system, then messages."""
    system = body.get("system")
    found = [("tool", t) for t in body.get("tools") or []]
    found += [("system", b) for b in ([{"type": "text", "text": system}] if isinstance(system, str) else system or [])]
    for message in body["messages"]:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        found += [(message["role"], block) for block in blocks]
    return found


def validate(body: Any) -> None:
    """The checks the real API makes that our code could get wrong."""
    if not isinstance(body, dict):
        raise InvalidRequest("body: expected a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidRequest("model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise InvalidRequest("max_tokens: Field required (an integer >= 1)")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: at least one message is required")
    if messages[0].get("role") != "user":
        raise InvalidRequest('messages: first message must use the "user" role')
    for index, message in enumerate(messages):
        content = message.get("content")
        if message.get("role") not in ("user", "assistant") or not content or not isinstance(content, (str, list)):
            raise InvalidRequest(f"messages.{index}: needs a role of user or assistant and non-empty content")
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise InvalidRequest("system: expected a string or a list of text blocks")
    for where, block in _blocks(body):
        if where != "tool" and block.get("type") == "text" and not str(block.get("text") or "").strip():
            raise InvalidRequest(f"{where}: text content blocks must contain non-whitespace text")
    names = {t["name"] for t in body.get("tools") or [] if (t.get("input_schema") or {}).get("type") == "object"}
    if len(names) != len(body.get("tools") or []):
        raise InvalidRequest("tools: each tool needs a unique name and an object input_schema")
    choice = body.get("tool_choice")
    if choice is not None and choice.get("type") not in ("auto", "any", "tool", "none"):
        raise InvalidRequest("tool_choice.type: invalid")
    if choice is not None and choice["type"] == "tool" and choice.get("name") not in names:
        raise InvalidRequest(f"tool_choice: tool {choice.get('name')!r} not found in tools")
    marks = [block["cache_control"] for _, block in _blocks(body) if "cache_control" in block]
    if len(marks) > MAX_BREAKPOINTS:
        raise InvalidRequest(f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided.")
    if any(not isinstance(cc, dict) or cc.get("type") != "ephemeral" or cc.get("ttl", "5m") not in ("5m", "1h")
           for cc in marks):  # fmt: skip
        raise InvalidRequest("cache_control: expected {type: ephemeral, ttl?: 5m|1h}")


class PromptCache:
    """Prefix hashes written at breakpoints, per model. No TTL: tests run within minutes."""

    def __init__(self, min_tokens: int) -> None:
        self.min_tokens = min_tokens
        self.written: set[str] = set()

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        blocks = _blocks(body)
        digest = hashlib.sha256(body["model"].encode())
        hashes, cumulative, total = [], [], 0
        for where, block in blocks:
            plain = {k: v for k, v in block.items() if k != "cache_control"}  # markers are not content
            digest.update(json.dumps([where, plain], sort_keys=True).encode())
            hashes.append(digest.hexdigest())
            total += tokens(plain)
            cumulative.append(total)
        breakpoints = [i for i, (_, block) in enumerate(blocks) if "cache_control" in block]
        if isinstance(body.get("cache_control"), dict):  # automatic caching: the last block
            breakpoints.append(len(blocks) - 1)
        read_at = max(
            (j for bp in breakpoints for j in range(max(0, bp - LOOKBACK_BLOCKS + 1), bp + 1) if hashes[j] in self.written),
            default=-1,
        )
        read = cumulative[read_at] if read_at >= 0 else 0
        created_at = read_at
        for bp in breakpoints:
            if bp > read_at and cumulative[bp] >= self.min_tokens:
                self.written.add(hashes[bp])
                created_at = bp
        creation = cumulative[created_at] - read if created_at > read_at else 0
        return {"input_tokens": total - read - creation, "cache_creation_input_tokens": creation,
                "cache_read_input_tokens": read}  # fmt: skip

