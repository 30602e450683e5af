"""Every sentence the Teams cards show, in one place (STYLE: one wording module per surface)."""

from __future__ import annotations

# Task lane
CONFIRM_TOOLTIP = "Confirm {ref} as a fact"
CONFIRM_OWN_WORDS = "Confirm in my words…"
PREVIEW_FIRST = "Preview the package"
CHOOSE = "Which one"
CHOOSE_REQUIRED = "Choose one first."

# Forms (core/forms.py declares their fields, labels and help)
FORM_TITLE = "{title} — session #{id}"
REQUIRED = "{label} can't be empty."
MORE_LINES = "…and {n} more, posted in the conversation below."
LINE_CONTINUED = "… ({n:,} more characters, posted in the conversation below)"
OVERFLOW_SECTION = "{heading} (continued from the card)"

# Resolution preview
RESOLUTION_TITLE = "Resolution note — session #{id}"
RESOLUTION_VERSION = "Preview at state v{version}{cached}. Edit the note before posting if you like."
RESOLUTION_CACHED = ", unchanged since the last preview"
RESOLUTION_DETERMINISTIC = "Composed from the task lane without the assistant{reason}."
RESOLUTION_UNGROUNDED = ("Composed from the task lane without the assistant: its drafts stated details that are not "
                         "in this session.")
RESOLUTION_TIME = "{minutes} minutes of working time, logged on the ticket when on."

# Queue and stats
QUEUE_TITLE = "Escalations awaiting pickup"
QUEUE_EMPTY = "No escalations are awaiting pickup."
QUEUE_LINE = "**#{id} {title}**"
QUEUE_DETAIL = "{reason} — by {by}, {when}"
STATS_TITLE = "Pickup-to-first-action"
STATS_PERIOD = "Last {days} days"
STATS_CLAIMED = "Claimed"
STATS_WITH_ACTION = "With a first action"
STATS_AVERAGE = "Average"
STATS_MEDIAN = "Median"
STATS_P95 = "p95"
STATS_NONE = "No periods to show."
NO_VALUE = "—"

# Help
HELP_TITLE = "ResolutionFlow"
HELP_INTRO = ("In a channel, mention @ResolutionFlow with a command; in a personal chat just type it. "
              "Anything else you write in a session's conversation is a turn with the assistant.")
HELP_COMMANDS = (  # (command, argument, what it does)
    ("help", "", "show this card"),
    ("new", "problem", "start a troubleshooting session here"),
    ("queue", "", "escalations awaiting pickup"),
    ("stats", "7d, 30d or 90d", "pickup-to-first-action for your team"),
    ("escalations here", "", "admins: post this account's escalations to this channel"),
    ("connect", "code", "admins: join this Teams tenant to your account with a code from /rf connect teams"),
    ("settings", "", "the PSA connection, statuses per board, time entries and your PSA member"),
)
QUEUE_MORE = "…and {n} more awaiting pickup."
HELP_SETTINGS_BUTTON = "PSA settings"

# Link a ticket: the ticket is searched as it is typed (adapters/teams/typeahead.py)
TICKET_SEARCH = "Type words of its summary or its number to search the open tickets"
TICKET_CHOICE = "#{id} {summary}"
TICKET_COMPANY = " — {company}"
MEMBER_CHOICE = "{name} ({identifier})"

# PSA settings card (adapters/teams/cards_psa.py)
PSA_TITLE = "{psa} settings"
PSA_CONNECTED = "Connected. Everyone in the account sees these settings; admins change them."
PSA_NOT_CONNECTED = "Not connected yet: an admin fills in the connection below."
PSA_NO_ADAPTER = "No PSA adapter is installed on this server."
PSA_CONNECTION = "Connection"
PSA_NOT_SET = "not set"
PSA_CONNECT = "Connect {psa}…"
PSA_CHANGE = "Change the connection…"
PSA_CHANGE_INTRO = "Fill in only what changes; a key left empty keeps the one stored."
PSA_SECRET_SET = "Stored (never shown). Type a new one to replace it."
PSA_SAVE_CONNECTION = "Save and test"
PSA_TEST = "Test the connection"
PSA_CHECK_OK = "✓ {psa} answered: the connection works{member}."
PSA_CHECK_MEMBER = " (API member {name})"
PSA_CHECK_PROBLEM = "✗ {message}"
PSA_DISCOVERED = "Found {key}: {value}"
PSA_CONNECT_FIRST = "Connect {psa} first."
PSA_STATUSES = "Statuses per board"
PSA_STATUSES_INTRO = ("The status a ticket moves to when its session is resolved or escalated. Each board has "
                      "statuses of its own, so each board chooses from its own.")
PSA_NO_BOARDS = "{psa} lists no active boards."
PSA_MORE_BOARDS = "…and {n} more boards, which don't fit on one card."
PSA_ROLE_LABELS = {"resolved": "When resolved", "escalated": "When escalated"}
PSA_STATUS_KEEP = "Don't change the status"
PSA_STATUS_CLOSES = "{name} (closes the ticket)"
PSA_STATUS_GONE = "{name} (no longer on the board)"
PSA_SAVE_STATUSES = "Save the statuses"
PSA_NOTHING_CHANGED = "Nothing changed."
PSA_SAVED = "Saved."
PSA_LIST_WARNING = "⚠ {warning}"
PSA_TIME = "Time entries"
PSA_TIME_TOGGLE = "Offer to log the session's working time on the ticket when resolving"
PSA_WORK_TYPE = "Work type"
PSA_WORK_ROLE = "Work role"
PSA_WORK_DEFAULT = "Not set: {psa} decides"
PSA_WORK_MARKED = "{name} ({psa}'s default)"
PSA_WORK_GONE = "{name} (no longer in {psa})"
PSA_BILLABLE = "Billable"
PSA_BILLABLE_LABELS = {"billable": "Billable", "do_not_bill": "Do not bill", "no_charge": "No charge",
                       "no_default": "As the work type says ({psa}'s default)"}
PSA_SAVE_TIME = "Save the time entries"
PSA_ME = "My member"
PSA_ME_INTRO = "Time is logged as your own {psa} member, never as the API member."
PSA_ME_IS = "You are **{name}** in {psa} ({how})."
PSA_ME_HOW = {"email": "matched by e-mail", "chosen": "chosen by you"}
PSA_ME_NONE = "You are not matched to a {psa} member yet; it is done by e-mail when first needed, or choose yourself."
PSA_ME_PICK = "Your {psa} member"
PSA_ME_SEARCH = "Type your name"
PSA_ME_SAVE = "Save my member"
PSA_ME_EMAIL = "Match me by e-mail"
PSA_ME_CHOOSE = "Choose your member first: type your name in the menu."
PSA_ME_SAVED = "You are {name} in {psa} now."
PSA_OUT_OF_DATE = "That choice is out of date; the card shows the current one."
