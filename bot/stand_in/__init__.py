"""A scripted local stand-in for the Anthropic Messages API: the fake the tests use
(`tests/fakes/anthropic_api.py` re-exports it) and the assistant of `rflow demo`. It is not the
real assistant: every answer is scripted (`demo_script.py`) or a minimal valid default.

`python -m bot.stand_in [--port N] [--script demo|none]` serves it on 127.0.0.1 and prints its
base URL; `messages_api.FakeAnthropic` runs it in-process.
"""

LABEL = "a scripted local stand-in for the Anthropic Messages API, not the real assistant (its answers are written in advance)"
"""How the stand-in is named wherever it shows itself."""

DUMMY_API_KEY = "stand-in-no-real-key"
"""The key the bot sends it: the stand-in wants one, as the API does, and accepts any."""
