"""`pip install .` (not editable) installs everything `rflow` needs (issue 14): the wheel is built
from a copy of the sources, installed into a folder of its own, and run from outside the
repository, where only that folder (and the venv's third-party packages) can be imported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("core", "adapters", "storage", "bot", "manifest")
FILES = ("pyproject.toml", "README.md", "LICENSE")
TEMPLATES = ("manifest/slack/manifest.yaml", "manifest/teams/manifest.json", "manifest/teams/color.png",
             "manifest/teams/outline.png")
APP_ID = "1b2c3d4e-0000-4000-8000-00000000abcd"
OURS = ("RF_", "ANTHROPIC_", "SLACK_", "MICROSOFT_")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy (the checkout gets no build/ or egg-info) and installed with --target."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in FILES:
        shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(tmp / "dist"), cwd=source,
        timeout=300)
    (wheel,) = (tmp / "dist").glob("resolutionflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for template in TEMPLATES:
        assert template in names, f"{template} is not in {wheel.name}"
    for data in ("storage/alembic.ini", "storage/migrations/env.py", "storage/migrations/versions/0001_initial.py"):
        assert data in names, f"{data} is not in {wheel.name}"
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    site = tmp / "site"
    run(sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel), cwd=tmp)
    return site


def outside(site: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in an empty folder, with the installed copy first on the path."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS) and k != "PYTHONPATH"}
    clean.update({"PYTHONPATH": str(site), "RF_SQLITE_PATH": str(tmp_path / "rflow.db"), **env})
    return run(sys.executable, *args, cwd=tmp_path, env=clean)


def test_the_installed_wheel_reads_its_own_templates(installed: Path, tmp_path: Path) -> None:
    where = outside(installed, tmp_path, "-c", "import bot.cli, bot.manifests as m; print(bot.cli.__file__); "
                                               "print(m.MANIFEST_DIR); print(m.SLACK_TEMPLATE)").stdout.split()
    assert all(Path(path).is_relative_to(installed) for path in where), where
    assert Path(where[2]).is_file()


def test_rflow_manifest_slack_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    out = outside(installed, tmp_path, "-m", "bot.cli", "manifest", "slack", "--url", "https://x.example").stdout
    assert out.startswith("# Slack app manifest for ResolutionFlow")
    assert "https://x.example/slack/events" in out


def test_rflow_manifest_teams_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    outside(installed, tmp_path, "-m", "bot.cli", "manifest", "teams", "--app-id", APP_ID, "--url", "https://x.example",
            "--out", "teams.zip")
    with zipfile.ZipFile(tmp_path / "teams.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert package.read("color.png") == (installed / "manifest" / "teams" / "color.png").read_bytes()
        assert APP_ID in package.read("manifest.json").decode()


def test_the_wheel_migrates_a_database_and_knows_its_version(installed: Path, tmp_path: Path) -> None:
    out = outside(installed, tmp_path, "-m", "bot.cli", "db", "upgrade", RF_LOG_LEVEL="WARNING").stdout
    assert "Database is at the latest migration." in out and (tmp_path / "rflow.db").exists()
    version = outside(installed, tmp_path, "-m", "bot.cli", "--version").stdout.strip()
    assert version.startswith("rflow ") and version != "rflow unknown"
