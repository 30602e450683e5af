"""STYLE.md asks for `mypy --strict` on core; run it inside the test run so a regression fails CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_and_the_surfaces_type_check_strictly() -> None:
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run([str(mypy), "--strict", "core", "adapters/console", "adapters/slack", "adapters/teams"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        print(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
