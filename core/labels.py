"""Human words for status and outcome names. People read these, never the raw enum value
("partly worked", not `applied_partial`); core's messages and every surface use them."""

from __future__ import annotations

from core.models import FixStatus

# An outcome the assistant proposed (R11), by its proposal code.
OUTCOME_LABELS = {"worked": "worked", "failed": "didn't work", "partial": "partly worked"}

# A fix's status as the lane shows it.
FIX_STATUS_LABELS = {
    FixStatus.PROPOSED: "proposed", FixStatus.APPLIED_SUCCESS: "worked", FixStatus.APPLIED_FAILED: "didn't work",
    FixStatus.APPLIED_PARTIAL: "partly worked", FixStatus.DISMISSED: "dismissed",
}

# "the fix …": what an outcome says once recorded.
OUTCOME_WORDS = {
    FixStatus.APPLIED_SUCCESS: "worked",
    FixStatus.APPLIED_FAILED: "didn't work",
    FixStatus.APPLIED_PARTIAL: "partly worked",
    FixStatus.DISMISSED: "was dismissed",
}


def fix_status_label(status: str) -> str:
    """A fix status in words; an unknown value (never expected) reads as itself."""
    try:
        return FIX_STATUS_LABELS[FixStatus(status)]
    except ValueError:
        return str(status)
