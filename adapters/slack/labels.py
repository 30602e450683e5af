"""Every sentence the Slack renderers show (blocks, modals, Home), in one place. Placeholders that
carry user text are filled with already-escaped mrkdwn by the renderers."""

from __future__ import annotations

# Task lane
CONFIRM_TITLE = "{label}?"
CONFIRM_DANGER = "It leaves “What we know” and the notes; it is kept in the session's history."
CONFIRM_YES = "Yes"
CONFIRM_OWN_WORDS = "Confirm in my words…"
LANE_FALLBACK = "{title} — {status}"
SHORTENED = "Long lines are shortened here (…); the full text is kept in the session and used in notes."
MORE_LINES = "_…and {n} more not shown here._"
MORE_ITEMS = "_…and {n} more not shown here; they stay open and appear as these are confirmed._"
EMPTY = "_{text}_"

# Escalation post, handoff DM and pickup (core/views.py words them; these only dress them)
PICKED_UP = ":white_check_mark: {state}"
PICKUP_NOTE = ":raising_hand: {headline} {next_step}"

# Long texts
SNIPPET_NOTICE = ("This is long ({chars} characters), so it comes as a file, {filename}, "
                  "instead of many messages.")
PART_OF = "part {k} of {n}"

# Modals
CANCEL = "Cancel"
CLOSE = "Close"
SAVE = "Save"
LOADING = ":hourglass_flowing_sand: Preparing… this window fills in by itself in a moment."
RESOLVE_HEAD = "Resolution note for session #{id} · state v{version}{cached}. It is posted customer-visible."
CACHED = " · cached"
DETERMINISTIC = (":warning: Composed deterministically from the facts and the fix: the assistant was "
                 "unavailable{reason}. Read it before posting.")
DETERMINISTIC_UNGROUNDED = (":warning: Composed deterministically from the facts and the fix: the assistant's "
                            "drafts stated details that are not in this session. Read it before posting.")
PART_LABEL = "{label}, part {k} of {n}"
NOTE_SPLIT = ("This note is {chars} characters, more than one box holds ({box}), so it is split over {n} "
              "boxes. Edit any of them; they are joined in order when you post.")
NOTE_TOO_LONG = ":warning: The note is {chars} characters; at most {max} can be posted. Shorten it first."
TIME_OPTION = "Log {minutes} minutes on the ticket"
MEMBER_PLACEHOLDER = "Anyone in the escalation channel"
TARGETS_CUT = "Only the first {shown} of {total} colleagues fit in this list; leave it empty to let anyone pick it up."
PACKAGE_HEAD = ("The handoff package for session #{id} (state v{version}) is posted as an internal note, "
                "never customer-visible.")
MESSAGE_TITLE = "ResolutionFlow"
TEXT_TOO_LONG = ("This is {chars} characters, more than the {max} it may have. It is shown here in full; write "
                 "the shortened text in the box below.")
SETTINGS_TITLE = "Settings"
CHANNEL_LABEL = "Escalation channel"
CHANNEL_HINT = "Escalations are posted here with a Pick up button. Invite the bot to the channel."
RESOLVED_STATUS_LABEL = "ConnectWise status id on resolve"
ESCALATED_STATUS_LABEL = "ConnectWise status id on escalate"
STATUS_HINT = "A number from your board's statuses. Left empty, the ticket status is not changed."
TIME_ENTRIES_LABEL = "Time entries"
TIME_ZONE_LABEL = "Time zone"
TIME_ZONE_PLACEHOLDER = "Europe/Amsterdam"
TIME_ZONE_HINT = "Dates in notes and packages are written in it. An IANA name; left empty, it stays as it is."
TIME_ENTRIES_OPTION = "Offer to log working time as a time entry on resolve"

# Inline submission errors (the forms' own come from core)
ERR_STATUS_ID = "A status id is a whole number, like 42."

# App Home
HOME_HEADER = "ResolutionFlow"
HOME_SESSIONS = "*My open sessions*"
HOME_NO_SESSIONS = "_No open sessions. Mention the bot in a thread, or use `/rf new <problem>`._"
HOME_SESSION = "*#{id} {title}*\n{status}{ticket}"
HOME_OPEN = "Open thread"
HOME_MORE_SESSIONS = "_…and {n} more open sessions._"
HOME_QUEUE = "*Escalations awaiting pickup*"
HOME_QUEUE_EMPTY = "_Nothing is waiting._"
HOME_QUEUE_LINE = "*#{id} {title}*\n{reason}\n_by {by} · {when}_"
HOME_MORE_QUEUE = "_…and {n} more; `/rf queue` lists them all._"
HOME_METRIC = "*Pickup-to-first-action*"
HOME_METRIC_LINE = ("*Last {days} days*: {n_claimed} claimed, {n_with_action} with an action\n"
                    "average {avg} · median {median} · p95 {p95}")

# While the assistant works (R37) and when a reply cannot be delivered
THINKING = "is thinking…"
ASSISTANT_FAILED = "The assistant could not answer ({reason}); your message is kept."
TURN_STOPPED = ":octagonal_sign: Stopped. The assistant's turn was cancelled; your messages are kept."
UNDELIVERABLE_DM = ("I could not post my reply in the thread of session #{id} (Slack said `{reason}`), "
                    "so here it is instead:")
UNDELIVERABLE_NOTE = ("The assistant's reply in session #{id} could not be posted in Slack ({reason}). "
                      "It is kept in the session's history.")
