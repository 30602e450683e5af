"""Every way an Anthropic call can fail, turned into `AssistantUnavailable` with a short reason (R16).

The reasons are read by engineers in the thread ("the assistant is overloaded"), so they live here,
in one place, and never carry secrets, request bodies or SDK class names.
"""

from __future__ import annotations

import logging

import anthropic
import httpx2  # the SDK's transport: errors while reading a stream arrive unwrapped

from core.assistant.types import AssistantUnavailable

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
