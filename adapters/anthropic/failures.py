"""Every way an Anthropic call can fail, turned into `AssistantUnavailable` with a short reason (R16).

The reasons are read by engineers in the thread ("the assistant is overloaded"), so they live here,
in one place, and never carry secrets, request bodies or SDK class names.
"""

from __future__ import annotations

import logging

import anthropic
import httpx2  # the SDK's transport: errors while reading a stream arrive unwrapped

from core.assistant.types import CODE_CONTEXT_TOO_LONG, CODE_CUT_OFF, AssistantUnavailable

log = logging.getLogger("rflow.assistant")

TIMED_OUT = "the assistant timed out"
OVERLOADED = "the assistant is overloaded, try again in a minute"
RATE_LIMITED = "the assistant is rate limited, try again shortly"
SERVER_ERROR = "the assistant had a server error"
UNREACHABLE = "the assistant could not be reached"
INTERRUPTED = "the connection to the assistant broke off"
REJECTED_KEY = "the assistant rejected our API key"
REJECTED_REQUEST = "the assistant rejected the request"
NO_TOOL_ANSWER = "the assistant gave no usable answer"
MALFORMED = "the assistant's answer was malformed"
CUT_OFF = "the assistant's answer was cut off"
REFUSED = "the assistant declined to answer"
NOT_CONFIGURED = "the assistant is off (no API key configured)"
CONTEXT_TOO_LONG = "the conversation is too long for the assistant to read, even shortened"
UNEXPECTED = "the assistant failed unexpectedly"

_BY_ERROR_TYPE = {
    "overloaded_error": OVERLOADED,
    "rate_limit_error": RATE_LIMITED,
    "api_error": SERVER_ERROR,
    "timeout_error": TIMED_OUT,
    "authentication_error": REJECTED_KEY,
    "permission_error": REJECTED_KEY,
    "invalid_request_error": REJECTED_REQUEST,
    "request_too_large": REJECTED_REQUEST,
}


# The context-window refusal is a 400 invalid_request_error told apart only by its message (the SDK
# warns the wording may change, and no `error.details.error_code` names it yet). Both shapes seen:
#   "prompt is too long: 219898 tokens > 200000 maximum"
#       (github.com/earendil-works/pi/issues/102, github.com/boldsoftware/exe.dev/issues/62)
#   "input length and `max_tokens` exceed context limit: 178959 + 64000 > 200000, decrease input
#    length or `max_tokens` and try again"
#       (github.com/docker/docker-agent/issues/569, github.com/anthropics/claude-code/issues/228)
# The body is the API's usual error object (docs.anthropic.com/en/api/errors):
#   {"type": "error", "error": {"type": "invalid_request_error", "message": "..."}, "request_id": "req_..."}
_CONTEXT_MESSAGES = ("prompt is too long", "exceed context limit")
CONTEXT_WINDOW_STOP = "model_context_window_exceeded"  # stop_reason: input and output filled the window


def context_too_long() -> AssistantUnavailable:
    return AssistantUnavailable(CONTEXT_TOO_LONG, code=CODE_CONTEXT_TOO_LONG)


def cut_off() -> AssistantUnavailable:
    return AssistantUnavailable(CUT_OFF, code=CODE_CUT_OFF)


def is_context_overflow(error: BaseException) -> bool:
    """The request did not fit the model's context window (a shorter prompt may)."""
    if isinstance(error, AssistantUnavailable):
        return error.code == CODE_CONTEXT_TOO_LONG
    if not isinstance(error, anthropic.APIStatusError):
        return False
    if error.status_code == 413 or str(error.type or "") == "request_too_large":  # the body itself was too large
        return True
    message = str(error.api_message or "").casefold()
    return error.type == "invalid_request_error" and any(text in message for text in _CONTEXT_MESSAGES)


def _status_reason(error: anthropic.APIStatusError) -> str:
    """The error type in the body decides first: a stream can fail with `event: error` on a 200."""
    by_type = _BY_ERROR_TYPE.get(str(error.type or ""))
    if by_type is not None:
        return by_type
    status = error.status_code
    if status == 529:
        return OVERLOADED
    if status == 429:
        return RATE_LIMITED
    if status in (408, 504):
        return TIMED_OUT
    if status in (401, 403):
        return REJECTED_KEY
    if status >= 500:
        return SERVER_ERROR
    return f"the assistant returned an error ({status})"


def unavailable_from(error: BaseException, *, purpose: str) -> AssistantUnavailable:
    """Map any exception raised while calling the API or reading its answer."""
    if isinstance(error, AssistantUnavailable):
        return error
    if isinstance(error, (anthropic.APITimeoutError, TimeoutError, httpx2.TimeoutException)):
        reason = TIMED_OUT
    elif is_context_overflow(error):
        log.warning("assistant %s unavailable: the prompt did not fit the context window", purpose)
        return context_too_long()
    elif isinstance(error, anthropic.APIStatusError):
        reason = _status_reason(error)
    elif isinstance(error, anthropic.APIConnectionError):
        reason = UNREACHABLE
    elif isinstance(error, httpx2.HTTPError):
        reason = INTERRUPTED
    elif isinstance(error, (anthropic.APIResponseValidationError, ValueError)):
        reason = MALFORMED  # includes tool input JSON that does not parse mid-stream
    else:
        log.exception("assistant %s failed unexpectedly", purpose, exc_info=error)
        return AssistantUnavailable(UNEXPECTED)
    log.warning("assistant %s unavailable: %s (%s)", purpose, reason, type(error).__name__)
    return AssistantUnavailable(reason)
