""""Test connection" for ConnectWise: every problem a person must fix, in the order they fix it.

Site → company (`/login/companyinfo`, which also gives the codebase) → keys and clientId (both are
401: ConnectWise's message names the clientId when that is the one wrong) → the API member's
read permissions, one cheap `pageSize=1` read per area the writeback uses. Write permissions
cannot be probed without writing to a customer's ticket; a refused write names them when it happens.
"""

from __future__ import annotations

import httpx

from adapters.psa.cw_api import ConnectWiseApi, CredentialsRefused
from adapters.psa.cw_site import CompanyUnknown, CwSettings, discover_codebase, site_origin
from core.psa import CheckCode, CheckProblem, ConnectionReport, PsaError, PsaPermissionError, PsaUnavailable

READ_PROBES: tuple[tuple[str, str], ...] = (
    ("service/tickets", "tickets"),
    ("service/boards", "the service boards"),
    ("system/members", "the members"),
    ("time/entries", "the time entries"),
    ("time/workTypes", "the work types"),
    ("time/workRoles", "the work roles"),
    ("schedule/entries", "the schedule entries"),
)


async def check_connection(api: ConnectWiseApi, settings: CwSettings, *, timeout: float,
                           transport: httpx.AsyncBaseTransport | None, base_url_given: bool) -> ConnectionReport:
    discovered: dict[str, str] = {}
    if not base_url_given:
        try:
            codebase = await discover_codebase(settings, timeout=timeout, transport=transport)
        except CompanyUnknown:
            return _report(CheckCode.COMPANY_UNKNOWN, f"The site {settings.site} does not know the company id "
                           f"'{settings.company_id}': use the company id typed at the ConnectWise login.")
        except httpx.HTTPError:
            return _report(CheckCode.SITE_UNREACHABLE, f"The site {site_origin(settings.site)} could not be "
                           "reached: check its name (for cloud, e.g. na.myconnectwise.net).")
        discovered["codebase"] = codebase
        api.use_codebase(codebase)
    try:
        await api.request("GET", "system/info", what="the system information")
    except PsaUnavailable as exc:
        return _report(CheckCode.SITE_UNREACHABLE, exc.message, discovered)
    except CredentialsRefused as exc:
        if "clientid" in exc.said.lower():
            return _report(CheckCode.CLIENT_ID_REFUSED, "ConnectWise refused the clientId: use the integration's "
                           "clientId GUID from ConnectWise's developer portal.", discovered)
        return _report(CheckCode.CREDENTIALS_REFUSED, "ConnectWise refused the API keys: check the public and "
                       "private key of the API member, and the company id.", discovered)
    except PsaError as exc:
        return _report(CheckCode.CREDENTIALS_REFUSED, exc.message, discovered)
    problems: list[CheckProblem] = []
    for path, what in READ_PROBES:
        try:
            await api.request("GET", path, what=what, params={"pageSize": 1})
        except PsaPermissionError as exc:
            problems.append(CheckProblem(CheckCode.PERMISSION_MISSING,
                                         f"The API member cannot read {what}: grant {exc.permission}.",
                                         permission=exc.permission))
    return ConnectionReport(problems=tuple(problems), discovered=discovered,
                            api_member=f"{settings.company_id}+{settings.public_key}")


def _report(code: CheckCode, message: str, discovered: dict[str, str] | None = None) -> ConnectionReport:
    return ConnectionReport(problems=(CheckProblem(code, message),), discovered=discovered or {})

