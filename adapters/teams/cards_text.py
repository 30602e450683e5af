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
)
QUEUE_MORE = "…and {n} more awaiting pickup."
