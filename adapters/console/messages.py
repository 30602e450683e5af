"""Every sentence the console prints, in one place."""

from __future__ import annotations

from core.actions import OutcomeCode

# The action commands' usages ({fact}, {promote}, …) are drawn from core's forms (console/actions.py).
HELP = """Commands (plain text is a chat turn in the current session):
  /new <problem>               start a session
  /sessions                    list sessions        /open <id>   switch to a session
  /as <name> [role]            act as another member (owner, admin, engineer, viewer)
  /lane                        show the task lane
  {fact:<28} add a fact           {promote:<24} confirm an item
  {reject:<28} turn down a proposed fact (or a question or check)
  {editfact:<28} edit a fact          {delfact:<24} remove a fact
  {fix:<30} propose your own fix
  /apply  /worked  {failed}  {partial}  /dismiss
  /confirm  /notyet            answer the assistant's outcome proposal
  {preview:<28} preview the note or the escalation package
  {resolve:<28} resolve (the note from the preview; +time logs working time)
  {link:<28} link a ticket, or search open ones   /retry  retry a failed writeback
  {escalate:<28} escalate, optionally to a colleague
  {park:<28} set the session aside
  /queue                       escalations awaiting pickup   {pickup}
  /stats [7d|30d|90d]          pickup-to-first-action metric
  /prefs [key=value ...]       account preferences (admins set them)
  /psa                         the PSA: connect, test, statuses per board, time entries, your member
  /help   /quit"""

ASSISTANT_OFF = ("The assistant is off (no ANTHROPIC_API_KEY). Everything else works: add facts and fixes by hand; "
                 "notes and packages are composed from them.")
ASSISTANT_ON = "The assistant is on ({model})."
WELCOME = "ResolutionFlow console — account {account}, you are {name} ({role}). /help lists the commands."
NO_SESSION = "No current session: start one with /new <problem> or pick one with /open <id>."
UNKNOWN_COMMAND = "Unknown command {command}. /help lists the commands."
BARE_SLASH = "A command name follows the slash, e.g. /help, which lists them."
USAGE = "Usage: {usage}"
FORM_TOO_LONG = "The {token} is {length:,} characters; at most {max:,}. Usage: {usage}"
LINE_TOO_LONG = "The line is {length:,} characters; at most {max:,}. Usage: {usage}"
MESSAGE_TOO_LONG = "The message is {length:,} characters; at most {max:,}. Nothing was saved."
CONTROL_CHARACTER = ("The line holds a control character ({char} at character {position:,}), which is not text to "
                     "store; nothing was done. Type it again without it.")
ID_TOO_LARGE = "{text} is too large to be an id (at most {max:,}). Usage: {usage}"
AS_QUOTES = "A quote is not closed. Usage: {usage} (a name with spaces in quotes: /as \"Dana Smith\")"
AS_USAGE = "Usage: {usage} (a name with spaces in quotes: /as \"Dana Smith\" engineer)"
ERROR = "✗ {message}"
INTERNAL_ERROR = ("That failed on our side ({kind}); the log has the details. Each action is one transaction, so "
                  "nothing was half-written.")
RESUMED = "Resumed {n} assistant turn(s) left pending by an earlier run."

STARTED = "Session #{id} started: {title}"
OPENED = "Now in session #{id}: {title} ({status})"
ACTING_AS = "You are now {name} ({role})."
ACTING_AS_NEW = "You are now {name} ({role}), a new member of this account."
ACTING_AS_EXISTING_ROLE = "You are now {name}; they are already a member, with role {role}."
MESSAGE_KEPT = "(saved; {n} secret(s) redacted before anything else sees it)"
RESUMED_SESSION = "(the session was parked; it is active again)"
THINKING_SKIPPED = "(saved — the assistant is off, so no reply will come)"

ASSISTANT_REPLY = "assistant> {text}"
ASSISTANT_FAILED = "The assistant could not answer ({reason}). Your message is saved; the task lane works by hand."
LANE_ADDED = "  + {label} {text}"
FACT_PROPOSED = "  ? {label} {text} (a proposed fact: /promote {label} to confirm it, /reject {label} to turn it down)"
FIX_SUGGESTED = "  Suggested fix: {title} (confidence {confidence}%) — /apply, then /worked, /failed or /partial"
OUTCOME_PROPOSED = "  The assistant read that the fix {word}. Confirm outcome? /confirm or /notyet"
THINKING = "… the assistant is thinking (Ctrl-C stops it)"
TURN_CANCELLED = "Cancelled the assistant's turn: no reply will come; your message is kept."
NOTHING_TO_STOP = "(nothing to stop: /quit or Ctrl-D leaves the console)"
INTERRUPTED = "Interrupted."
LEFT_PENDING = "An assistant turn is still open; it is answered when the console next starts."

FACT_ADDED = "Added {label}: {text}"
FACT_PROMOTED = "Confirmed as {label}: {text}"
FACT_SYNTHESIZED = "Proposed {label}: {text}  (/promote {label} confirms it, /promote {label} <words> rewords it)"
ITEM_DISMISSED = "Dismissed {label}."
FACT_EDITED = "Edited {label}: {text}"
FACT_DELETED = "Removed {label}."
FIX_ADDED = "Fix proposed: {title}. /apply when you try it."
FIX_APPLIED = "Applied: {title}. It is verifying — /worked, /failed [reason] or /partial <notes>."
FIX_OUTCOME = "Recorded: the fix {word}."
OUTCOME_NOT_YET = "Left as is: the outcome stays open."
PREVIEW_HEAD = "── {kind} preview (state v{version}{cached}{how}) ──"
PREVIEW_DETERMINISTIC = ", composed deterministically"
PREVIEW_FALLBACK = {  # why, by core.previews.Fallback value (R16)
    "unavailable": ", composed deterministically: the assistant was unavailable",
    "grounding": ", composed deterministically: the assistant's drafts stated details not in this session",
}
RESOLVED = "Resolved session #{id}. {detail}"
RESOLVED_LOCAL_DETAIL = "No ticket is linked: the note is stored here and nothing was posted."
ESCALATED = "Escalated session #{id}.{target} {detail}"
ESCALATED_LOCAL_DETAIL = "No ticket is linked: the package is stored here and the escalation channel is told."
PARKED = "Parked session #{id}. Post a message in it to pick it back up."
PICKED_UP = "You picked up session #{id} (escalated by {by}). You are its handler now."
QUEUE_EMPTY = "No escalations are awaiting pickup."
QUEUE_LINE = "  {title} ({age} ago)"
SESSIONS_EMPTY = "No sessions yet: /new <problem> starts one."
SESSION_LINE = "{marker} #{id} [{status}] {title} — {handler}"
PREFS_EMPTY = "No preferences set."
PREFS_LINE = "  {key} = {value}"
PREFS_PSA_MOVED = ("The PSA is set up with /psa: /psa connect key=value … connects it, /psa statuses and /psa time "
                   "choose statuses per board and how time is logged.")
STATS_HEAD = "Pickup-to-first-action, last {days} days: {n_claimed} claimed, {n_with_action} with an action."
STATS_LINE = "  average {avg} · median {median} · p95 {p95}"
NOTIFY = "📣 {text}"
PICKUP_RESULT = "#{id} {title}: {headline} {next_step}"
NOTIFY_RESOLVED = "📣 Session #{id} resolved by {by}."

LINK_SUGGESTION = "This mentions ticket #{id}: /link {id} links the session to it."
LINKED = "Linked ConnectWise ticket #{ticket_id}: {summary} — {company} · {board} · {status}"
WRITEBACK_QUEUED = "Posting to ConnectWise ticket #{id}…"
WRITEBACK_DONE = "✓ {message}"
WRITEBACK_FAILED = "✗ {message} /retry tries again once it is fixed."
WRITEBACK_RETRYING = "… {message}"
RETRY_QUEUED = "Retrying the writeback to ConnectWise ticket #{ticket_id}…"
RESOLVED_PSA_DETAIL = "The note goes to the linked ticket."
ESCALATED_PSA_DETAIL = "The package goes to the linked ticket as an internal note; the escalation channel is told."
TIME_OFFER = "This session has {minutes} min of working time: /resolve +time [summary] logs it on ticket #{id}."
CONNECT_CODE = ("Connect code {code} (single use, expires in 15 minutes). In Teams, an admin says "
                "\"@ResolutionFlow connect {code}\" to join that tenant to this account.")

# What each action's outcome says, filled from its params (render.outcome adds `id`, `word`, `by`,
# `target` and `detail`). A preview says its head line and then the note or package itself.
OUTCOMES: dict[OutcomeCode, str] = {
    OutcomeCode.FACT_ADDED: FACT_ADDED,
    OutcomeCode.FACT_CONFIRMED: FACT_PROMOTED,
    OutcomeCode.FACT_PROPOSED: FACT_SYNTHESIZED,
    OutcomeCode.ITEM_DISMISSED: ITEM_DISMISSED,
    OutcomeCode.FACT_EDITED: FACT_EDITED,
    OutcomeCode.FACT_DELETED: FACT_DELETED,
    OutcomeCode.FIX_ADDED: FIX_ADDED,
    OutcomeCode.FIX_APPLIED: FIX_APPLIED,
    OutcomeCode.FIX_OUTCOME: FIX_OUTCOME,
    OutcomeCode.OUTCOME_NOT_YET: OUTCOME_NOT_YET,
    OutcomeCode.PREVIEW_READY: PREVIEW_HEAD,
    OutcomeCode.RESOLVED: RESOLVED,
    OutcomeCode.ESCALATED: ESCALATED,
    OutcomeCode.PARKED: PARKED,
    OutcomeCode.PICKED_UP: PICKED_UP,
    OutcomeCode.TICKET_LINKED: LINKED,
    OutcomeCode.WRITEBACK_RETRIED: RETRY_QUEUED,
}
# Where a resolution's note or an escalation's package went, by whether a ticket is linked.
CLOSING_DETAIL = {(OutcomeCode.RESOLVED, True): RESOLVED_PSA_DETAIL, (OutcomeCode.RESOLVED, False): RESOLVED_LOCAL_DETAIL,
                  (OutcomeCode.ESCALATED, True): ESCALATED_PSA_DETAIL,
                  (OutcomeCode.ESCALATED, False): ESCALATED_LOCAL_DETAIL}
ESCALATED_TARGET = " Target: {name}."
PREVIEW_KINDS = {"resolve": "Resolution note", "escalate": "Escalation package"}

# The PSA settings (/psa …) and ticket search (/link <words>).
PSA_SYNTAX = ("/psa [connect key=value … | test | boards | statuses <board> resolved=<status|none> "
              "escalated=<status|none> | time [on|off] [type=<id|none>] [role=<id|none>] [billable=<option>] | "
              "members | me [member]]")
PSA_USAGE = USAGE.format(usage=PSA_SYNTAX)
PSA_HEAD = "{psa}: {state}"
PSA_CONNECTED = "connected"
PSA_NOT_CONNECTED = "not connected (an admin runs /psa connect key=value …: {keys})"
PSA_SETTING = "  {key} = {value}"
PSA_BOARD_STATUS = "  board {board}, {role}: {status}{closes}"
PSA_ROLES = {"resolved": "on resolve", "escalated": "on escalate"}
PSA_CHOICE = "{role}: {status}"
PSA_NO_BOARD_STATUS = "  No board statuses chosen: /psa boards lists them, /psa statuses <board> resolved=<status> chooses."
PSA_CLOSES = " (closes the ticket)"
PSA_TIME = "  time entries {state}: work type {work_type} · work role {work_role} · billing: {billable}"
PSA_TIME_DEFAULT = "as the PSA decides"
PSA_BILLABLE = {"billable": "billable", "do_not_bill": "do not bill", "no_charge": "no charge",  # by BillableOption
                "no_default": PSA_TIME_DEFAULT}
PSA_ME = "  you are {psa} member {name} (#{id}, {how})"
PSA_MATCHED = {"email": "matched by your e-mail address", "chosen": "chosen with /psa me"}
PSA_ME_NONE = "  you are not matched to a {psa} member: /psa me finds you by e-mail, /psa me <member> chooses."
PSA_CHECK_OK = "✓ {psa} answered: the connection works{member}."
PSA_CHECK_MEMBER = " as API member {name}"
PSA_CHECK_PROBLEM = "✗ {message}"
PSA_DISCOVERED = "  found {key} = {value}"
PSA_BOARD = "Board {id} {name}{chosen}"
PSA_BOARD_CHOSEN = " — {choices}"
PSA_STATUS_LINE = "    {id:>6} {name}{closed}"
PSA_STATUS_CLOSED = " (closed)"
PSA_LIST_WARNING = "  (!) {warning}"
PSA_WORK_CODE = "    {id:>6} {name}{default}"
PSA_WORK_DEFAULT = " (the PSA's default)"
PSA_WORK_TYPES = "  Work types (type=<id>):"
PSA_WORK_ROLES = "  Work roles (role=<id>):"
PSA_MEMBER = "    {id:>6} {name} ({identifier}{email})"
PSA_NONE = "none"
SEARCH_HEAD = "Open tickets matching “{text}”:"
SEARCH_LINE = "  #{id} {summary} — {company} · {board} · {status}"
SEARCH_EMPTY = "No open ticket matches “{text}”."
SEARCH_NEXT = "/link <number> links one of them."
