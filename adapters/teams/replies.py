"""Every sentence the Teams surface writes into a conversation or an invoke answer (the cards'
own wording is in `cards_text`, what a click did in `outcomes`), so both can be read and fixed in one place."""

from __future__ import annotations

# Sessions and turns
STARTED = "Session #{id} started. I'll answer here; the task lane card above keeps what we know."
ASSISTANT_OFF = "The assistant is off, so nobody will answer here, but the task lane works by hand."
LINK_OFFER = "I see ticket #{ticket} in your message."
REDACTED = "I kept your message but hid {n} secret(s) in it before storing it."
NEED_PROBLEM = "Tell me the problem to start a session, e.g. `@ResolutionFlow new printer offline for 3 users`."
CHAIN_HAS_SESSION = ("This conversation already holds session #{id}. To start another, write a new post: "
                     "`@ResolutionFlow new <problem>`.")
ASSISTANT_FAILED = "The assistant could not answer ({reason}); your message is kept."
THINKING = "Thinking…"  # the informative update that opens a streamed reply
TURN_STOPPED = "⏹️ Stopped: the assistant's turn was cancelled; your messages are kept."
FROM_OTHER_SURFACE = "**{author}** (in {where}): {text}"

# Cards and clicks
OUT_OF_DATE = "That button is out of date; the card has been refreshed."
STILL_WORKING = "Still working on it; the card updates when it is done."

# Escalations and pickup
ESCALATED = "🚨 {by} escalated this session: {reason}. {where}"
ESCALATION_POSTED = "It is posted to the Teams escalation channel for pickup."
ESCALATION_NO_CHANNEL = "No Teams escalation channel is set (an admin says `@ResolutionFlow escalations here` in one)."
PICKED_UP = "🙋 {headline} {next_step}"
HANDLER_NOW = ("You are the handler of session #{id} now. Write here to continue it with the assistant; "
               "the task lane card above stays current.")
ESCALATIONS_HERE = "Escalations of {account} will be posted in this channel, with **Pick up**."
ESCALATIONS_IN_CHANNEL = "Say `@ResolutionFlow escalations here` in the Teams channel where escalations should go."

# Resolution and writeback
RESOLVED = "✅ {name} {said}."
RESOLVED_WORDS = {"resolved_local": "resolved this session here (no ticket linked, nothing posted to the PSA)",
                  "writeback_pending": "resolved this session; the note is on its way to the ticket"}
WRITEBACK = "Ticket #{ticket}: {message}"

# Accounts
LOOKUP_FAILED = "Teams could not tell me who you are just now; please try again in a minute."
CONNECTED = "This Teams tenant is now part of {account}. You are signed in as {name} ({role})."
ESCALATED_TO_YOU = "{by} escalated session #{id} to you."

# Typeahead search (an invoke answer Teams shows in the menu, if at all)
SEARCH_SLOW = "The search took too long; type a little more and try again."
