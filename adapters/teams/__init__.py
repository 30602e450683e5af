"""Microsoft Teams surface: the task lane and escalation posts as Adaptive Cards (schema 1.5),
built on the Microsoft 365 Agents SDK. Card rendering (`cards`, `card_actions`) is pure and imports
no SDK, so it can be tested and reused without a connector."""
