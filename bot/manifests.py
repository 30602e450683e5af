"""`rflow manifest slack|teams`: the app manifests in manifest/ filled in for one deployment's address.

Placeholders ({{url}}, {{host}}, {{name}}, {{app_id}}) are replaced in the parsed structure, not in the
text, so a name with quotes or colons cannot break the YAML or the JSON. What the user reads when an
argument is wrong is in the messages below; the CLI prints it and exits 2.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml


def template_root() -> Traversable:
    """The templates as package data of the top-level `manifest` package (the repository's manifest/
    folder, installed beside `bot` by the wheel). When no such package imports (an editable install
    made before manifest/ became one) or another `manifest` shadows it, the checkout's folder is read."""
    try:
        root = resources.files("manifest")
        if (root / "slack" / "manifest.yaml").is_file():
            return root
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "manifest"


MANIFEST_DIR = template_root()
SLACK_TEMPLATE = MANIFEST_DIR / "slack" / "manifest.yaml"
TEAMS_DIR = MANIFEST_DIR / "teams"
TEAMS_FILES = ("manifest.json", "color.png", "outline.png")
DEFAULT_NAME = "ResolutionFlow"
DEFAULT_TEAMS_PACKAGE = Path("resolutionflow-teams.zip")

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# Slack: display_information.name ≤ 35. Teams v1.22 schema: name.short ≤ 30, name.full ≤ 100,
# description.short ≤ 80, one bot, ≤ 3 command lists of ≤ 10 commands; Teams docs: command title ≤ 32.
SLACK_NAME_MAX = 35
TEAMS_LIMITS = {"name.short": 30, "name.full": 100, "description.short": 80, "description.full": 4000}
TEAMS_MAX_COMMANDS = 10
TEAMS_MAX_COMMAND_LISTS = 3
TEAMS_COMMAND_TITLE_MAX = 32
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # fixed, so the same inputs give a byte-identical package

URL_SHAPE = "--url must be the bot's public address, like https://rflow.example.com (got {url!r})."
URL_PLAIN_HTTP = ("--url is plain http://: Slack and Teams only call https:// addresses "
                  "(http:// is accepted for localhost only).")
URL_EXTRAS = "--url takes the address only: no user, query or fragment (got {url!r})."
URL_MISSING = "--url is required (or pass --socket-mode to run Slack without a public address)."
NAME_LENGTH = "--name must be 1 to {limit} characters for {platform} (got {length})."
APP_ID_SHAPE = ("--app-id must be the Azure Bot's Microsoft App ID, a GUID like "
                "00000000-0000-0000-0000-000000000000 (got {app_id!r}).")
TEAMS_LIMIT = "the Teams manifest breaks a limit: {what}."


class ManifestError(ValueError):
    """An argument the user can fix (address, app id, name)."""


def base_url(raw: str) -> str:
    """The bot's address as https://host[:port][/prefix] with no trailing slash."""
    text = raw.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise ManifestError(URL_SHAPE.format(url=raw)) from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not host or any(c.isspace() for c in text):
        raise ManifestError(URL_SHAPE.format(url=raw))
    if parts.username or parts.password or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ManifestError(URL_EXTRAS.format(url=raw))
    if scheme == "http" and host not in LOCAL_HOSTS:
        raise ManifestError(URL_PLAIN_HTTP)
    return f"{scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _name(raw: str, *, limit: int, platform: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= limit:
        raise ManifestError(NAME_LENGTH.format(limit=limit, platform=platform, length=len(name)))
    return name


def _fill(node: Any, values: dict[str, str]) -> Any:
    """Replace {{key}} in every string of a parsed template; an unknown key is a template bug."""
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], node)
    return node


# --- Slack -------------------------------------------------------------------------------------------

def slack_manifest(*, url: str | None, name: str = DEFAULT_NAME, socket_mode: bool = False) -> dict[str, Any]:
    """The Slack manifest as data. Socket Mode drops the request URLs: Slack delivers over the socket."""
    if url is None and not socket_mode:
        raise ManifestError(URL_MISSING)
    root = base_url(url) if url is not None else ""
    template = yaml.safe_load(SLACK_TEMPLATE.read_text(encoding="utf-8"))
    manifest: dict[str, Any] = _fill(template, {"url": root, "name": _name(name, limit=SLACK_NAME_MAX,
                                                                            platform="Slack")})
    if socket_mode:
        settings = manifest["settings"]
        settings["socket_mode_enabled"] = True
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        settings["interactivity"].pop("message_menu_options_url", None)
        for command in manifest["features"].get("slash_commands", []):
            command.pop("url", None)
        if url is None:  # no public address, so no OAuth install flow either
            manifest["oauth_config"].pop("redirect_urls", None)
    return manifest


def slack_manifest_yaml(*, url: str | None, name: str = DEFAULT_NAME, socket_mode: bool = False) -> str:
    """The YAML to paste at api.slack.com/apps → Create New App → From an app manifest."""
    manifest = slack_manifest(url=url, name=name, socket_mode=socket_mode)
    body = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=1000)
    return f"# Slack app manifest for {manifest['display_information']['name']} (rflow manifest slack)\n{body}"


# --- Teams -------------------------------------------------------------------------------------------

def teams_app_id(raw: str) -> str:
    """The Azure Bot's Microsoft App ID, checked and lower-cased."""
    app_id = raw.strip()
    if not GUID.match(app_id):
        raise ManifestError(APP_ID_SHAPE.format(app_id=raw))
    return app_id.lower()


def teams_manifest(*, app_id: str, url: str, name: str = DEFAULT_NAME) -> dict[str, Any]:
    """manifest.json as data, checked against the schema limits a user-chosen name could break."""
    guid, root = teams_app_id(app_id), base_url(url)
    template = json.loads((TEAMS_DIR / "manifest.json").read_text(encoding="utf-8"))
    values = {"app_id": guid, "url": root, "host": urlsplit(root).hostname or "",
              "name": _name(name, limit=TEAMS_LIMITS["name.short"], platform="Teams")}
    manifest: dict[str, Any] = _fill(template, values)
    _check_teams_limits(manifest)
    return manifest


def _check_teams_limits(manifest: dict[str, Any]) -> None:
    for path, limit in TEAMS_LIMITS.items():
        group, key = path.split(".")
        if len(manifest[group][key]) > limit:
            raise ManifestError(TEAMS_LIMIT.format(what=f"{path} is over {limit} characters"))
    bots = manifest.get("bots", [])
    if len(bots) > 1:
        raise ManifestError(TEAMS_LIMIT.format(what="more than one bot"))
    for bot in bots:
        lists = bot.get("commandLists", [])
        if len(lists) > TEAMS_MAX_COMMAND_LISTS:
            raise ManifestError(TEAMS_LIMIT.format(what=f"more than {TEAMS_MAX_COMMAND_LISTS} command lists"))
        for commands in (entry["commands"] for entry in lists):
            if len(commands) > TEAMS_MAX_COMMANDS:
                raise ManifestError(TEAMS_LIMIT.format(what=f"more than {TEAMS_MAX_COMMANDS} commands in a list"))
            if any(len(c["title"]) > TEAMS_COMMAND_TITLE_MAX for c in commands):
                raise ManifestError(TEAMS_LIMIT.format(what=f"a command title over {TEAMS_COMMAND_TITLE_MAX}"))


def teams_package(*, app_id: str, url: str, name: str = DEFAULT_NAME) -> bytes:
    """The zip Teams admins upload: manifest.json, color.png and outline.png at its root."""
    manifest = teams_manifest(app_id=app_id, url=url, name=name)
    contents = {"manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n",
                "color.png": (TEAMS_DIR / "color.png").read_bytes(),
                "outline.png": (TEAMS_DIR / "outline.png").read_bytes()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for filename in TEAMS_FILES:
            info = zipfile.ZipInfo(filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, contents[filename])
    return buffer.getvalue()


def write_teams_package(out: Path, *, app_id: str, url: str, name: str = DEFAULT_NAME) -> Path:
    """Write the package; nothing is written when an argument is wrong."""
    data = teams_package(app_id=app_id, url=url, name=name)
    out.write_bytes(data)
    return out
