"""End-to-end: the real `rflow` process, its real database, the assistant faked at the HTTP edge."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.anthropic_api import FakeAnthropic


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Rflow:
    tmp: Path
    env: dict[str, str]

    def process_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RF_", "ANTHROPIC_", "SLACK_", "MICROSOFT_"))}
        return {**env, **self.env, **extra}

    async def start(self, lines: str, *args: str, **extra: str) -> asyncio.subprocess.Process:
        script = self.tmp / f"replay-{len(list(self.tmp.glob('replay-*')))}.txt"
        script.write_text(lines, encoding="utf-8")
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "console", "--replay", str(script), *args,
            cwd=self.tmp, env=self.process_env(**extra),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    async def console(self, lines: str, *args: str, **extra: str) -> Run:
        proc = await self.start(lines, *args, **extra)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        return Run(code=proc.returncode or 0, out=out.decode(), err=err.decode())


@pytest.fixture
async def anthropic():
    async with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def rflow(tmp_path: Path, anthropic: FakeAnthropic) -> Rflow:
    return Rflow(tmp=tmp_path, env={
        "RF_SQLITE_PATH": str(tmp_path / "rflow.db"), "RF_CONSOLE_USER": "Dana",
        "ANTHROPIC_API_KEY": "sk-ant-test-key", "ANTHROPIC_BASE_URL": anthropic.base_url,
        "RF_LLM_MAX_RETRIES": "0", "RF_LLM_TIMEOUT": "10", "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    })
