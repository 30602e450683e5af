"""`python -m bot.stand_in [--port N] [--script demo|none]`: the stand-in Messages API on its own.

The first line is `listening on http://127.0.0.1:N` (as the tests' fake prints it), then what it
is and how to point the bot at it. It serves until Ctrl-C or SIGTERM. `--script demo` (the default)
answers from the demo's script; `none` gives the fake's minimal default answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.stand_in import DUMMY_API_KEY, LABEL, demo_script
from bot.stand_in.messages_api import FakeAnthropic, arguments, from_arguments, serve

PROG = "python -m bot.stand_in"


def banner(fake: FakeAnthropic, script: str) -> list[str]:
    return [f"This is {LABEL}; script: {script}.",
            f"Point the bot at it: ANTHROPIC_BASE_URL={fake.base_url} ANTHROPIC_API_KEY={DUMMY_API_KEY} rflow console",
            "Stop it with Ctrl-C."]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = arguments(PROG, description=f"Serve {LABEL}.")
    parser.add_argument("--script", choices=("demo", "none"), default="demo",
                        help="demo: the printer-offline story of `rflow demo` (default); none: minimal default answers")
    args = parser.parse_args(argv)
    fake = from_arguments(args)
    script = "none" if args.reply is not None else args.script  # --reply TEXT: every turn answers TEXT
    if script == "demo":
        demo_script.install(fake)
    asyncio.run(serve(fake, lambda f: banner(f, script)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
