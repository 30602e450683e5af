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
TIME_ZONE_LABEL = "Time zone"
TIME_ZONE_PLACEHOLDER = "Europe/Amsterdam"
TIME_ZONE_HINT = "Dates in notes and packages are written in it. An IANA name; left empty, it stays as it is."
TIME_ENTRIES_OPTION = "Offer to log working time as a time entry on resolve"
ADMINS_ONLY = "Only admins change the account's settings; your own {psa} member you choose here."

# PSA settings ({psa} is the PSA's display name, e.g. ConnectWise)
PSA_PANEL = "*{psa}*\n{state}"
PSA_CONNECTED = "Connected. Statuses, time entries and members are read from it."
PSA_NOT_CONNECTED = "Not connected yet: start with *Connection*."
PSA_OPEN_CONNECTION = "Connection"
PSA_OPEN_STATUSES = "Statuses per board"
PSA_OPEN_TIME = "Time entries"
PSA_OPEN_MEMBER = "My {psa} member"
PSA_CONNECTION_TITLE = "Connection"
PSA_CONNECTION_INTRO = ("Saved and tested at once. Secret keys are stored encrypted and never shown again; "
                        "the other settings are shown as stored.")
PSA_SECRET_KEPT = "Stored. Leave it empty to keep it; type a new one to replace it."
PSA_SECRET_NEW = "Stored encrypted; it is never shown again."
PSA_OPTIONAL_FIELD = "Optional."
PSA_TEST_OK = ":white_check_mark: {psa} answered: the connection works{member}."
PSA_TEST_MEMBER = " (API member {name})"
PSA_TEST_PROBLEMS = ":warning: The connection is saved, but {psa} found something to fix:"
PSA_TEST_PROBLEM = "• {message}"
PSA_DISCOVERED = "Found: {key} = {value}"
PSA_STATUSES_TITLE = "Statuses per board"
PSA_STATUSES_INTRO = ("The status a board's tickets move to when a session is resolved or escalated, from that "
                      "board's own statuses. *Don't change* leaves the ticket's status as it is.")
PSA_STATUS_LABEL = {"resolved": "{board} — on resolve", "escalated": "{board} — on escalate"}
PSA_STATUS_KEEP = "Don't change"
PSA_STATUS_CLOSES = "{name} (closes)"
PSA_NO_BOARDS = "{psa} lists no active boards."
PSA_BOARDS_CUT = "Only the first {shown} of {total} boards fit in this window; the others keep their choices."
PSA_STATUSES_CUT = "Only the first {shown} of {total} statuses of {board} are listed."
PSA_LIST_WARNING = ":warning: {warning}"
PSA_STATUSES_SAVED = ":white_check_mark: Saved."
PSA_STATUS_SAVED_LINE = "*{board}*: on resolve → {resolved}; on escalate → {escalated}"
PSA_STATUS_NONE = "don't change"
PSA_NOTHING_CHANGED = "Nothing was changed."
PSA_TIME_TITLE = "Time entries"
PSA_TIME_LABEL = "Time entries"
PSA_WORK_TYPE_LABEL = "Work type"
PSA_WORK_ROLE_LABEL = "Work role"
PSA_WORK_DEFAULT = "{name} ({psa} default)"
PSA_WORK_PSA_DEFAULT = "{psa}'s default"
PSA_WORK_CUT = "Only the first {shown} of {total} are listed."
PSA_BILLABLE_LABEL = "Billing"
PSA_BILLABLE = {"billable": "Billable", "do_not_bill": "Do not bill", "no_charge": "No charge",
                "no_default": "As the work type says"}
PSA_TIME_SAVED = (":white_check_mark: Saved. Time entries are *{state}*; work type {work_type}, work role "
                  "{work_role}, billing: {billable}.")
PSA_TIME_ON = "on"
PSA_TIME_OFF = "off"
PSA_MEMBER_TITLE = "My member"
PSA_MEMBER_INTRO = "Time you log on tickets is booked as your own {psa} member, never as the API member."
PSA_MEMBER_LABEL = "Your {psa} member"
PSA_MEMBER_PLACEHOLDER = "Type your name"
PSA_MEMBER_OPTION = "{name} ({identifier})"
PSA_BY_EMAIL_LABEL = "Or"
PSA_BY_EMAIL = "Match me by my e-mail address"
PSA_ME_NOW = "You are matched to *{name}* ({how})."
PSA_ME_NONE = "You are not matched to a {psa} member yet."
PSA_MATCHED = ":white_check_mark: You are {psa} member *{name}* ({how})."
PSA_HOW = {"email": "matched by e-mail", "chosen": "chosen by you"}
PSA_WORKING = ":hourglass_flowing_sand: Saving and asking {psa}… this window fills in by itself in a moment."
PSA_FAILED = "Something went wrong while saving; nothing more was changed. Try again."
TICKET_PLACEHOLDER = "Type a ticket number or words from its summary"
TICKET_HINT = "Only open tickets are listed."
TICKET_OPTION = "#{id} {summary}"
TICKET_OPTION_COMPANY = "#{id} {summary} — {company}"

# Inline submission errors (the forms' own come from core)
ERR_CHOICE = "That choice is out of date; open this window again."
ERR_MEMBER_MISSING = "Choose your member, or tick the e-mail match."

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
