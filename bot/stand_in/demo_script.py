"""The script of `rflow demo`: what the stand-in assistant answers, so a newcomer sees every part of
a session without an API key. It is not a model: it follows one story, a printer that shows
offline, and picks its answer from the request alone (no state kept between calls, so two sessions
or a retried call get the same answers):

1. the session's first turn (`/new ...`): a question and a check for the lane;
2. a message about ping or the queue: a proposed fact (for the check) and a suggested fix;
3. "it works" once the fix is applied: an outcome proposal (`/confirm` or `/notyet`);
   "it didn't work": a failed-outcome proposal;
4. anything else: a hint at the next line of the walkthrough.

`record_fact` (`/promote Q1` without words) answers the script's question and check from what the
engineer said, or says nothing confirms them. `write_note` composes the note from the facts and fix
it is given and nothing else, so every token in it is grounded (R13).

The replies are built with the fake's own builders (`replies.py`) and the script is installed as
the fake's `default_responder`, so anything pushed on its queue still answers first. `WALKTHROUGH`
is what the README's demo walkthrough types (a test holds the two together).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.stand_in.messages_api import FakeAnthropic
from bot.stand_in.replies import (
    Reply,
    ToolUseReply,
    default_reply,
    fact_input,
    fix_input,
    outcome_input,
    update_session_input,
)
from core.assistant.prompts import NEW_CLOSE, NEW_OPEN
from core.assistant.validation import ESCALATION_SECTIONS, RESOLUTION_SECTIONS

PROBLEM = "Printer on floor 2 shows offline for everyone"
QUESTION = "Does the printer answer ping from the print server?"
CHECK = "Look at the print queue on the print server: how many jobs are stuck?"
FIX_TITLE = "Clear the print spooler"
FIX_DESCRIPTION = ("Stop the Print Spooler service on the print server, delete the stuck jobs, start the service "
                   "again and print a test page.")  # fmt: skip

WALKTHROUGH: tuple[str, ...] = (
    f"/new {PROBLEM}",
    "it pings fine and the queue has 14 stuck jobs",
    "/promote P1",
    "/promote Q1",
    "/promote P2",
    "/apply",
    "it works, the test page printed",
    "/confirm",
    "/preview resolve",
    "/resolve Cleared a stuck print spooler",
)
"""The lines of the README's `rflow demo` walkthrough, in order."""

DIAGNOSIS_WORDS = ("ping", "queue", "stuck", "job", "spool")
FAILED_WORDS = ("didn't work", "did not work", "doesn't work", "does not work", "not working", "still offline",
                "still stuck", "no luck")  # fmt: skip
WORKED_WORDS = ("works", "worked", "working", "fixed", "solved", "back online")
NO_PING_WORDS = ("no ping", "not ping", "doesn't ping", "does not ping", "don't ping", "timed out", "unreachable")

_APPLIED = re.compile(r"^Active fix: .*, applied\)\s*$", re.MULTILINE)
_NO_FIX = re.compile(r"^Active fix: none yet\s*$", re.MULTILINE)


def install(fake: FakeAnthropic) -> DemoScript:
    """Make `fake` answer from the demo's script whenever its queue is empty."""
    script = DemoScript()
    fake.default_responder = script
    return script


class DemoScript:
    """A `default_responder` for the fake: the Messages API request body in, the scripted reply out."""

    def __call__(self, body: dict[str, Any]) -> Reply:
        tool = (body.get("tool_choice") or {}).get("name")
        if tool == "update_session":
            return ToolUseReply("update_session", self.turn(body))
        if tool == "record_fact":
            return ToolUseReply("record_fact", {"fact": self.fact(_last_text(body))})
        if tool == "write_note":
            escalate = "Current hypothesis" in str(body.get("system"))
            return ToolUseReply("write_note", {"markdown": self.note(_last_text(body), escalate=escalate)})
        return default_reply(body)

    # update_session ----------------------------------------------------------------------------
    def turn(self, body: dict[str, Any]) -> dict[str, Any]:
        text = _last_text(body)
        said = " ".join(_engineer_lines(_between(text, NEW_OPEN, NEW_CLOSE)))
        words = said.casefold()
        opening = not any(message.get("role") == "assistant" for message in body.get("messages") or [])
        if opening:
            return self._opening(words)
        applied = bool(_APPLIED.search(text))
        failed = _has(words, FAILED_WORDS)
        worked = not failed and _has(words, WORKED_WORDS)
        if applied and failed:
            return update_session_input(
                "That reads as the spooler fix not helping. Confirm it, and tell me what the queue shows now.",
                outcome=outcome_input("failed", said))
        if applied and worked:
            return update_session_input(
                "Good news: a printed test page means the stuck spooler was the cause. Confirm the outcome and "
                "I will write the resolution note from the facts.", outcome=outcome_input("worked", said))
        if (failed or worked) and not _NO_FIX.search(text):
            return update_session_input("Has the fix been tried yet? /apply it first, then tell me how it went.")
        if _has(words, DIAGNOSIS_WORDS):
            return self._diagnosis(said, words)
        return update_session_input(self._hint(text))

    def _opening(self, words: str) -> dict[str, Any]:
        if "print" not in words:
            return update_session_input(
                "(Scripted demo) I only know one story: a printer that shows offline. Start it with "
                f"/new {PROBLEM}")
        return update_session_input(
            "Let's narrow it down. When everyone loses the same printer at once, the printer itself, the network "
            "or the print server's queue is usually the cause. Two things to look at first:",
            questions=[QUESTION], checks=[CHECK])

    def _diagnosis(self, said: str, words: str) -> dict[str, Any]:
        facts = []
        if _has(words, ("stuck", "job")):
            facts.append(fact_input("Jobs are stuck in the print queue on the print server", said, "C1"))
        reply = ("The printer is reachable, so the network is fine; jobs stuck in the queue point at the print "
                 "spooler. I suggest clearing it.") if "ping" in words and not _has(words, NO_PING_WORDS) else (
                 "Stuck jobs point at the print spooler. I suggest clearing it.")  # fmt: skip
        return update_session_input(reply, facts=facts, fixes=[fix_input(FIX_TITLE, FIX_DESCRIPTION, 80)])

    def _hint(self, text: str) -> str:
        if _NO_FIX.search(text):
            step = "tell me what ping and the print queue show, e.g. “it pings fine and the queue has 14 stuck jobs”"
        elif not _APPLIED.search(text):
            step = "/apply the suggested fix, then tell me how it went"
        else:
            step = "tell me how the fix went, e.g. “it works, the test page printed”"
        return f"(Scripted demo) I follow a script, so I can't answer that. Next: {step}."

    # record_fact -------------------------------------------------------------------------------
    def fact(self, text: str) -> str | None:
        """The fact that answers the script's question or check, from what the engineer said."""
        item = text.split("\n", 1)[0]
        _, _, conversation = text.partition("Recent conversation (oldest first):")
        words = " ".join(_engineer_lines(conversation)).casefold()
        if "ping" in item.casefold() and "ping" in words:
            return "The printer does not answer ping" if _has(words, NO_PING_WORDS) else "The printer answers ping"
        if "queue" in item.casefold() and _has(words, ("stuck", "job")):
            return "Jobs are stuck in the print queue on the print server"
        return None

    # write_note --------------------------------------------------------------------------------
    def note(self, text: str, *, escalate: bool) -> str:
        """The note from the bundle it is given (`core/assistant/prompts.py` render_note_bundle)."""
        bundle = _bundle(text)
        title = bundle.get("session", "") or PROBLEM
        facts = bundle.get("facts") or []
        fix, description = bundle.get("fix", ""), bundle.get("description", "")
        confirmed = "\n".join(f"- {fact}" for fact in facts) or "Nothing was confirmed beyond the problem itself."
        if escalate:
            tried = "\n".join(f"- {t}" for t in bundle.get("tried") or []) or (
                f"- {fix}" if fix else "Nothing has been tried yet.")
            reason = bundle.get("reason", "")
            parts = [title, confirmed, tried,
                     f"The cause is still open. {reason}".strip() if reason else "The cause is still open.",
                     "Take over from the confirmed facts above and check what they leave open."]  # fmt: skip
            return _sections(ESCALATION_SECTIONS, parts)
        cause = (f"The confirmed facts above point at the cause that “{fix}” addressed." if fix
                 else "The confirmed facts above describe the cause.")  # fmt: skip
        resolution = f"{fix}: {description}" if fix and description else (fix or "See the confirmed facts above.")
        return _sections(RESOLUTION_SECTIONS, [title, confirmed, cause, resolution])


def _sections(names: Sequence[str], bodies: Sequence[str]) -> str:
    return "\n\n".join(f"## {name}\n{body}" for name, body in zip(names, bodies))


def _has(words: str, phrases: Sequence[str]) -> bool:
    return any(phrase in words for phrase in phrases)


def _last_text(body: dict[str, Any]) -> str:
    """The text of the request's last message (the volatile part of a turn, a fact or note request)."""
    messages = body.get("messages") or []
    if not messages:
        return ""
    content = messages[-1].get("content")
    if isinstance(content, str):
        return content
    return "\n".join(str(block.get("text") or "") for block in content or [] if isinstance(block, dict))


def _between(text: str, start: str, end: str) -> str:
    _, found, rest = text.partition(start)
    return rest.partition(end)[0] if found else ""


def _engineer_lines(text: str) -> list[str]:
    """What people said (`[name] text` entries), without the action records (`[action by name] ...`)
    and the assistant's own words."""
    said = []
    for entry in text.strip().split("\n\n"):
        entry = entry.strip()
        if entry.startswith("[") and not entry.startswith("[action by "):
            said.append(entry.partition("] ")[2].strip())
    return said


def _bundle(text: str) -> dict[str, Any]:
    """The parts of a note request the note is made of: session, facts, fix, description, tried."""
    found: dict[str, Any] = {"facts": [], "tried": []}
    section = ""
    for line in text.splitlines():
        if line.startswith("Session: "):
            found["session"] = line.removeprefix("Session: ").strip()
        elif line.startswith("Escalation reason: "):
            found["reason"] = line.removeprefix("Escalation reason: ").strip()
        elif line.startswith("Confirmed facts:"):
            section = "facts"
        elif line.startswith("What was tried:"):
            section = "tried"
        elif line.startswith("Script runs:"):
            section = ""
        elif line.startswith("Fix: "):
            section = ""
            fix = line.removeprefix("Fix: ")
            if fix.strip() != "none yet":
                found["fix"] = re.sub(r"\s*\(status [^)]*\)\s*$", "", fix).strip()
        elif line.startswith("  Description: "):
            found["description"] = line.removeprefix("  Description: ").strip()
        elif line.startswith("- ") and section and line[2:].strip() != "none yet":
            found[section].append(line[2:].strip())
    return found
