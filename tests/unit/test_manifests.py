"""The app manifests ask for what the code uses, filled in for one address (issue 3 §1, issue 5 §4)."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.commands import SUBCOMMANDS
from adapters.slack.oauth import BOT_SCOPES
from adapters.teams.activities import parse_command
from adapters.teams.cards_text import HELP_COMMANDS
from bot.cli import main
from bot.manifests import (
    MANIFEST_DIR,
    ManifestError,
    base_url,
    slack_manifest,
    slack_manifest_yaml,
    teams_manifest,
    teams_package,
)

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "1b2c3d4e-0000-4000-8000-00000000abcd"
URL = "https://rflow.example.com"
SCOPES = ("app_mentions:read", "channels:history", "groups:history", "im:history", "mpim:history", "chat:write",
          "chat:write.public", "commands", "im:write", "users:read", "users:read.email", "files:write",
          "channels:read", "groups:read", "team:read")
EVENT_SCOPE = {"app_mention": "app_mentions:read", "message.channels": "channels:history",
               "message.groups": "groups:history", "message.im": "im:history", "message.mpim": "mpim:history"}
TEAMS_COMMANDS = ["help", "new", "queue", "stats", "escalations here", "connect", "settings"]


def _slack(**kwargs: Any) -> dict[str, Any]:
    """Through the YAML text, so what is tested is what the user pastes."""
    parsed: dict[str, Any] = yaml.safe_load(slack_manifest_yaml(**kwargs))
    return parsed


# --- Slack -------------------------------------------------------------------------------------------

def test_the_slack_manifest_has_every_scope_event_and_command_with_the_urls_filled_in() -> None:
    m = _slack(url=URL + "/")
    assert m["_metadata"] == {"major_version": 1}
    assert m["oauth_config"]["scopes"]["bot"] == list(SCOPES)
    assert m["settings"]["event_subscriptions"]["bot_events"] == [*EVENT_SCOPE, "app_home_opened"]
    (rf,) = m["features"]["slash_commands"]
    assert rf["command"] == "/rf" and rf["url"] == f"{URL}/slack/events" and rf["description"]
    assert rf["should_escape"] is True  # `/rf role @person` must arrive as <@U…>
    assert m["settings"]["interactivity"] == {"is_enabled": True, "request_url": f"{URL}/slack/events",
                                              "message_menu_options_url": f"{URL}/slack/events"}  # search menus
    assert m["settings"]["event_subscriptions"]["request_url"] == f"{URL}/slack/events"
    assert m["oauth_config"]["redirect_urls"] == [f"{URL}/slack/oauth_redirect"]
    assert m["features"]["app_home"] == {"home_tab_enabled": True, "messages_tab_enabled": True,
                                         "messages_tab_read_only_enabled": False}
    assert m["features"]["bot_user"] == {"display_name": "ResolutionFlow", "always_online": True}
    settings = m["settings"]
    assert (settings["org_deploy_enabled"], settings["socket_mode_enabled"], settings["token_rotation_enabled"]) \
        == (False, False, False)
    assert m["display_information"]["name"] == "ResolutionFlow"
    assert len(m["display_information"]["description"]) <= 140
    assert m["display_information"]["background_color"].startswith("#")
    assert "{{" not in json.dumps(m)


def test_every_bot_event_has_its_scope_and_email_comes_with_users_read() -> None:
    m = _slack(url=URL)
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    for event in m["settings"]["event_subscriptions"]["bot_events"]:
        assert event == "app_home_opened" or EVENT_SCOPE[event] in scopes, event
    assert "users:read.email" in scopes and "users:read" in scopes
    assert "commands" in scopes and "chat:write" in scopes


def test_the_manifest_declares_what_the_slack_adapter_asks_for_and_handles() -> None:
    m = _slack(url=URL)
    assert set(m["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)  # OAuth installs ask for the same
    hint = m["features"]["slash_commands"][0]["usage_hint"]
    assert all(sub in hint.replace("|", " ").split() for sub in SUBCOMMANDS), hint
    assert len(hint) <= 1000


def test_socket_mode_drops_every_request_url() -> None:
    m = _slack(url=None, socket_mode=True)
    assert m["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in m["settings"]["event_subscriptions"]
    assert "request_url" not in m["settings"]["interactivity"] and m["settings"]["interactivity"]["is_enabled"]
    assert "url" not in m["features"]["slash_commands"][0]
    assert "redirect_urls" not in m["oauth_config"]
    assert "http" not in json.dumps(m)
    assert m["settings"]["event_subscriptions"]["bot_events"]  # events still arrive, over the socket


def test_socket_mode_with_an_address_keeps_only_the_oauth_redirect() -> None:
    m = _slack(url=URL, socket_mode=True)
    assert m["oauth_config"]["redirect_urls"] == [f"{URL}/slack/oauth_redirect"]
    assert "/slack/events" not in json.dumps(m)


def test_the_slack_manifest_needs_an_address_unless_socket_mode() -> None:
    with pytest.raises(ManifestError, match="--socket-mode"):
        slack_manifest(url=None)


def test_a_name_with_quotes_and_colons_stays_one_string() -> None:
    name = 'Acme "Desk": #1'
    m = _slack(url=URL, name=name)
    assert m["display_information"]["name"] == name and m["features"]["bot_user"]["display_name"] == name
    assert teams_manifest(app_id=APP_ID, url=URL, name=name)["name"]["short"] == name


# --- addresses ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://x.example", "ftp://x.example", "rflow.example.com", "https://",
                                 "https://x.example?a=1", "https://x.example/#top", "https://u:p@x.example",
                                 "https://x.example:99999", "https://x .example", ""])
def test_bad_addresses_are_refused(url: str) -> None:
    with pytest.raises(ManifestError):
        base_url(url)


@pytest.mark.parametrize("url", ["http://localhost:3000/", "http://127.0.0.1:3000"])
def test_plain_http_is_accepted_for_localhost(url: str) -> None:
    assert base_url(url) == url.rstrip("/")


HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z][a-z0-9-]{0,12}){1,3}", fullmatch=True)
SEGMENTS = st.lists(st.from_regex(r"[a-z0-9_-]{1,8}", fullmatch=True), max_size=3)


@given(host=HOSTS, segments=SEGMENTS, slashes=st.integers(0, 3), port=st.none() | st.integers(1, 65535))
def test_addresses_are_normalised_without_a_trailing_slash(host: str, segments: list[str], slashes: int,
                                                           port: int | None) -> None:
    netloc = host if port is None else f"{host}:{port}"
    path = "".join("/" + s for s in segments)
    expected = f"https://{netloc}{path}"
    got = base_url(f"  HTTPS://{netloc.upper()}{path}{'/' * slashes} ")
    assert got == expected and base_url(got) == got
    with pytest.raises(ManifestError, match="https"):
        base_url(f"http://{netloc}{path}")


# --- Teams -------------------------------------------------------------------------------------------

def _package(**kwargs: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(teams_package(**{"app_id": APP_ID, "url": URL, **kwargs})))


def test_the_teams_package_holds_exactly_the_manifest_and_two_icons_at_its_root() -> None:
    package = _package()
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert package.testzip() is None
    for icon in ("color.png", "outline.png"):
        assert package.read(icon) == (MANIFEST_DIR / "teams" / icon).read_bytes()
    assert teams_package(app_id=APP_ID, url=URL) == teams_package(app_id=APP_ID, url=URL)  # reproducible


def test_the_teams_manifest_has_the_ids_domains_scopes_and_commands() -> None:
    m = json.loads(_package(app_id=APP_ID.upper(), url="https://rflow.example.com:8443/rf/").read("manifest.json"))
    assert m["$schema"] == "https://developer.microsoft.com/en-us/json-schemas/teams/v1.22/MicrosoftTeams.schema.json"
    assert (m["manifestVersion"], m["version"], m["id"]) == ("1.22", "1.0.0", APP_ID)
    assert m["validDomains"] == ["rflow.example.com"]
    assert m["developer"]["websiteUrl"] == "https://rflow.example.com:8443/rf"
    for key in ("privacyUrl", "termsOfUseUrl"):
        assert m["developer"][key].startswith("https://rflow.example.com:8443/rf/")
    assert m["permissions"] == ["identity", "messageTeamMembers"]
    assert m["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert "webApplicationInfo" not in m and "{{" not in json.dumps(m)
    (bot,) = m["bots"]
    assert bot["botId"] == APP_ID and sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    by_scope = {scope: [c["title"] for c in entry["commands"]] for entry in bot["commandLists"]
                for scope in entry["scopes"]}
    assert set(by_scope) == {"personal", "team", "groupChat"}
    assert by_scope["team"] == TEAMS_COMMANDS  # `escalations here` is for channels
    assert set(by_scope["personal"]) == set(TEAMS_COMMANDS) - {"escalations here"}


def test_the_teams_manifest_respects_the_schema_limits() -> None:
    m = teams_manifest(app_id=APP_ID, url=URL, name="N" * 30)
    assert len(m["bots"]) <= 1 and len(m["bots"][0]["commandLists"]) <= 3
    for entry in m["bots"][0]["commandLists"]:
        assert len(entry["commands"]) <= 10  # v1.22's schema; later versions allow 12
        assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 4000 for c in entry["commands"])
    assert len(m["name"]["short"]) <= 30 and len(m["name"]["full"]) <= 100
    assert len(m["description"]["short"]) <= 80 and len(m["description"]["full"]) <= 4000
    assert len(m["developer"]["name"]) <= 32 and len(m["accentColor"]) == 7
    with pytest.raises(ManifestError, match="30"):
        teams_manifest(app_id=APP_ID, url=URL, name="N" * 31)


def test_every_teams_command_is_one_the_teams_adapter_understands() -> None:
    m = teams_manifest(app_id=APP_ID, url=URL)
    titles = {c["title"] for entry in m["bots"][0]["commandLists"] for c in entry["commands"]}
    assert titles == {command for command, _, _ in HELP_COMMANDS}
    for title in titles:
        assert parse_command(title) is not None or parse_command(f"{title} ABCD1234") is not None, title


@pytest.mark.parametrize("app_id", ["nope", "", "1b2c3d4e00004000800000000000abcd", APP_ID + "0", "{" + APP_ID + "}"])
def test_the_teams_app_id_must_be_a_guid(app_id: str) -> None:
    with pytest.raises(ManifestError, match="GUID"):
        teams_manifest(app_id=app_id, url=URL)


# --- icons (read the PNG bytes: signature, CRCs, IHDR, pixels) ----------------------------------------

def _png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, colour type, unfiltered rows) for an 8-bit non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(tag + body)
        chunks.append((tag, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and interlace == 0
    bpp = {2: 3, 6: 4}[colour]
    raw = zlib.decompress(b"".join(body for tag, body in chunks if tag == b"IDAT"))
    stride, rows, prev = width * bpp, [], bytes(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
            p = a + b - c
            paeth = a if abs(p - a) <= min(abs(p - b), abs(p - c)) else (b if abs(p - b) <= abs(p - c) else c)
            line[i] = (line[i] + (0, a, b, (a + b) // 2, paeth)[kind]) & 0xFF
        rows.append(prev := bytes(line))
    return width, height, colour, rows


def test_the_color_icon_is_192_square() -> None:
    width, height, colour, rows = _png(_package().read("color.png"))
    assert (width, height) == (192, 192) and colour in (2, 6) and len(rows) == 192


def test_the_outline_icon_is_32_square_white_on_transparent() -> None:
    width, height, colour, rows = _png(_package().read("outline.png"))
    assert (width, height, colour) == (32, 32, 6)  # RGBA: it has an alpha channel
    pixels = [row[i:i + 4] for row in rows for i in range(0, len(row), 4)]
    opaque = [p for p in pixels if p[3] > 0]
    assert opaque and len(opaque) < len(pixels)  # something drawn, something transparent
    assert all(p[:3] == b"\xff\xff\xff" for p in opaque)  # Teams accepts only white in the outline


# --- CLI ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["slack", "--url", "http://x.example"], ["slack", "--url", "x.example"], ["slack"],
                                  ["slack", "--url", URL, "--name", "N" * 36],
                                  ["teams", "--app-id", APP_ID, "--url", "http://x.example"],
                                  ["teams", "--app-id", "nope", "--url", URL]])
def test_the_cli_exits_2_with_a_clear_message(argv: list[str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.zip"
    code = main(["manifest", *argv, *(["--out", str(out)] if argv[0] == "teams" else [])])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and not out.exists()
    assert captured.err.startswith(f"rflow manifest {argv[0]}: error: --")


def test_the_cli_writes_the_teams_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rf.zip"
    assert main(["manifest", "teams", "--app-id", APP_ID, "--url", URL + "/", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert json.loads(zipfile.ZipFile(out).read("manifest.json"))["validDomains"] == ["rflow.example.com"]


def test_python_m_bot_cli_prints_the_slack_manifest() -> None:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "manifest", "slack", "--url", "https://x.example"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    m = yaml.safe_load(done.stdout)
    assert m["settings"]["event_subscriptions"]["request_url"] == "https://x.example/slack/events"
    assert m["oauth_config"]["scopes"]["bot"] == list(SCOPES)
