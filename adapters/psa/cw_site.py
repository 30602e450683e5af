"""Where a ConnectWise Manage company lives: its settings, its API host and its codebase (R40 setup).

- The settings a person types are the site (`na.myconnectwise.net`, or an on-premise host), the
  company id and an API member's keys, plus the integration's `clientId` (CW Developer Guide,
  "Authentication"; PLATFORM_NOTES §4). Nothing ConnectWise-shaped leaves adapters/psa.
- The codebase (`v4_6_release/`, `v2025_1/`, …) changes with ConnectWise upgrades, so it is not
  asked for: `GET https://{site}/login/companyinfo/{company}` answers JSON with `Codebase`, and
  `null` for a company the site does not know (cwps Connect-CWM.ps1 l.36–52).
- Cloud sites answer the REST API on `api-{site}` (`api-na.myconnectwise.net`), on-premise
  servers on their own host (cwps Private/Helper/New-CWMUrl.ps1).
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from core.errors import InvalidInput
from core.psa import PsaCredentials, PsaField

KIND = "connectwise"
DISPLAY_NAME = "ConnectWise"
DEFAULT_CODEBASE = "v4_6_release/"
CLOUD_DOMAINS = ("myconnectwise.net", "connectwisedev.com")

FIELDS: tuple[PsaField, ...] = (
    PsaField("site", "Site (e.g. na.myconnectwise.net)"),
    PsaField("company", "Company id (as typed at the ConnectWise login)"),
    PsaField("public_key", "API member public key"),
    PsaField("private_key", "API member private key", secret=True),
    PsaField("client_id", "Integration clientId (a GUID from ConnectWise's developer portal)"),
    PsaField("codebase", "API codebase (found from the site when left empty)", required=False),
)


@dataclass(frozen=True)
class CwSettings:
    site: str
    company_id: str
    public_key: str
    private_key: str
    client_id: str
    codebase: str | None = None

    def __repr__(self) -> str:
        return f"CwSettings(site={self.site!r}, company_id={self.company_id!r}, codebase={self.codebase!r})"


def cw_settings(credentials: PsaCredentials) -> CwSettings:
    """The generic credentials read as ConnectWise's; a missing field is the person's to fill."""
    values = {**credentials.settings, **credentials.secrets}
    missing = [f.label for f in FIELDS if f.required and not str(values.get(f.name) or "").strip()]
    if missing:
        raise InvalidInput(f"The ConnectWise connection is missing: {', '.join(missing)}.",
                           reason="psa.settings_missing", params={"fields": missing})
    return CwSettings(
        site=str(values["site"]).strip(), company_id=str(values["company"]).strip(),
        public_key=str(values["public_key"]).strip(), private_key=str(values["private_key"]).strip(),
        client_id=str(values["client_id"]).strip(), codebase=str(values.get("codebase") or "").strip() or None,
    )  # fmt: skip


def site_origin(site: str) -> str:
    """`https://host[:port]`: a bare host is HTTPS; a scheme typed by the person is kept."""
    text = site.strip().rstrip("/")
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if not parts.hostname or parts.scheme not in ("http", "https") or "/" in parts.netloc:
        raise InvalidInput(f"'{site}' is not a ConnectWise site name.", reason="psa.site_invalid")
    return f"{parts.scheme}://{parts.netloc}"


def api_origin(site: str) -> str:
    """The REST host: `api-` in front of a cloud site, the site itself on premise."""
    origin = site_origin(site)
    scheme, _, host = origin.partition("://")
    name = host.split(":", 1)[0].lower()
    cloud = any(name == domain or name.endswith("." + domain) for domain in CLOUD_DOMAINS)
    if cloud and not name.startswith("api-"):
        host = f"api-{host}"
    return f"{scheme}://{host}"


def codebase_path(codebase: str | None) -> str:
    return (codebase or DEFAULT_CODEBASE).strip().strip("/") + "/"


def api_base_url(settings: CwSettings, codebase: str | None) -> str:
    return f"{api_origin(settings.site)}/{codebase_path(codebase)}apis/3.0/"


def ui_root(settings: CwSettings, codebase: str | None) -> str:
    """The root of ConnectWise's web UI, for ticket links a person can open."""
    return f"{site_origin(settings.site)}/{codebase_path(codebase)}"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verified TLS context for every ConnectWise client of the process: building one loads
    the CA bundle, about 20 ms, which each writeback would otherwise pay again."""
    return httpx.create_ssl_context()


class CompanyUnknown(Exception):
    """The site answered, but does not know the company id."""


async def discover_codebase(settings: CwSettings, *, timeout: float,
                            transport: httpx.AsyncBaseTransport | None = None) -> str:
    """The company's codebase from its site; raises httpx errors when the site cannot be reached
    and CompanyUnknown when it answers without one."""
    url = f"{site_origin(settings.site)}/login/companyinfo/{quote(settings.company_id, safe='')}"
    async with httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=True,
                                 verify=tls_context()) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    try:
        body: Any = response.json()
    except ValueError:
        raise CompanyUnknown(settings.company_id) from None
    codebase = body.get("Codebase") if isinstance(body, dict) else None
    if not isinstance(codebase, str) or not codebase.strip():
        raise CompanyUnknown(settings.company_id)
    return codebase_path(codebase)
