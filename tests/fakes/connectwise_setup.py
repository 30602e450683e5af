"""Setup tables, system info and codebase discovery of the fake ConnectWise server (a mixin of
FakeConnectWise).

- Boards, their statuses, members, work types and work roles are paged lists (`conditions`,
  `orderBy`, page/pageSize). Record shapes: sowderca/connectwise-ruby-sdk docs/Board.md
  (`inactiveFlag`), docs/Member.md (`officeEmail`), docs/WorkType.md (`billTime`, `inactiveFlag`,
  `overallDefaultFlag`; one overall default at a time here), docs/WorkRole.md (`inactiveFlag`);
  `billTime` takes the four BillTime values (thejoshbjones/PYConnectWise ChargeCodeModel.py).
- `GET /system/info` needs authentication, and here no permission: `version`, `isCloud`,
  `serverTimeZone`, `cloudRegion` (Jetbuilt/connect_wise docs/Info.md).
- `GET /login/companyinfo/{company}` lives on the site, outside `/{codebase}apis/3.0`, and needs no
  authentication (ConnectWise Developer Guide: /login/companyinfo/{company}; pyconnectwise
  clients/manage_client.py reads `Codebase`; pncit/cwmApi reads `SiteUrl`, `VersionCode`). The
  company matches case-insensitively; an unknown one answers 200 with body `null`
  (christaylorcodes/ConnectWiseManageAPI Connect-CWM.ps1, as adapters/psa/cw_site.py notes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.connectwise_time import BILLABLE_OPTIONS
from tests.fakes.connectwise_wire import (
    BOARD_FIELDS,
    MEMBER_FIELDS,
    STATUS_FIELDS,
    WORK_ROLE_FIELDS,
    WORK_TYPE_FIELDS,
    ApiKey,
    Handler,
    NotFoundError,
    Table,
)

CODEBASE = "v4_6_release/"
SYSTEM_INFO = {"version": "v2025.1.12345", "isCloud": True, "serverTimeZone": "Eastern Standard Time", "cloudRegion": "NA"}


class SetupDesk:
    """Seeding and read handlers for the setup tables, `/system/info` and `/login/companyinfo`."""

    boards: Table
    statuses: Table
    members: Table
    work_types: Table
    work_roles: Table
    api_keys: list[ApiKey]
    site_companies: set[str]
    site_url: str

    if TYPE_CHECKING:  # provided by FakeConnectWise

        def _page(self, request: web.Request, records: list[dict[str, Any]], known: frozenset[str]) -> web.Response: ...
        def _guard(self, function: str, level: str, handler: Handler) -> Handler: ...

    def _setup_routes(self) -> list[tuple[str, str, Handler]]:
        """Routes under the API prefix."""
        setup = "Table Setup"
        return [
            ("GET", "/service/boards", self._guard(setup, "Inquire", self._list_boards)),
            ("GET", "/service/boards/{id:\\d+}/statuses", self._guard(setup, "Inquire", self._statuses)),
            ("GET", "/time/workTypes", self._guard(setup, "Inquire", self._list_work_types)),
            ("GET", "/time/workRoles", self._guard(setup, "Inquire", self._list_work_roles)),
            ("GET", "/system/members", self._guard("Member Maintenance", "Inquire", self._list_members)),
            ("GET", "/system/info", self._system_info),
        ]

    def _site_routes(self) -> list[tuple[str, str, Handler]]:
        """Routes of the site itself, outside the API prefix (no authentication)."""
        return [("GET", "/login/companyinfo/{company}", self._company_info)]

    # ---- seeding ----------------------------------------------------------------------------

    def add_board(self, board_id: int, name: str, statuses: list[tuple[int, str, bool]], *, inactive: bool = False) -> None:
        self.boards[board_id] = {"id": board_id, "name": name, "inactiveFlag": inactive}
        for status_id, status_name, closed in statuses:
            self.statuses[status_id] = {
                "id": status_id, "name": status_name, "board": {"id": board_id, "name": name},
                "closedStatus": closed, "inactive": False,
            }  # fmt: skip

    def add_member(self, member_id: int, identifier: str, first: str, last: str, *, email: str | None = None,
                   office_email: str | None = None, inactive: bool = False) -> None:  # fmt: skip
        self.members[member_id] = {
            "id": member_id, "identifier": identifier, "firstName": first, "lastName": last,
            "primaryEmail": email, "officeEmail": office_email if office_email is not None else email,
            "inactiveFlag": inactive,
        }  # fmt: skip

    def add_work_type(self, work_type_id: int, name: str, *, default: bool = False, inactive: bool = False,
                      bill_time: str = "Billable") -> dict[str, Any]:  # fmt: skip
        if bill_time not in BILLABLE_OPTIONS:
            raise ValueError(f"bill_time must be one of {BILLABLE_OPTIONS}")
        if default:
            for work_type in self.work_types.values():
                work_type["overallDefaultFlag"] = False
        self.work_types[work_type_id] = {"id": work_type_id, "name": name, "inactiveFlag": inactive,
                                         "overallDefaultFlag": default, "billTime": bill_time}  # fmt: skip
        return self.work_types[work_type_id]

    def add_work_role(self, work_role_id: int, name: str, *, inactive: bool = False) -> dict[str, Any]:
        self.work_roles[work_role_id] = {"id": work_role_id, "name": name, "inactiveFlag": inactive}
        return self.work_roles[work_role_id]

    # ---- handlers ---------------------------------------------------------------------------

    @staticmethod
    def _sorted(table: Table) -> list[dict[str, Any]]:
        return [table[key] for key in sorted(table)]

    async def _list_boards(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, self._sorted(self.boards), BOARD_FIELDS)

    async def _statuses(self, request: web.Request) -> web.StreamResponse:
        board_id = int(request.match_info["id"])
        if board_id not in self.boards:
            raise NotFoundError(f"Board Id {board_id} not found")
        mine = [s for s in self._sorted(self.statuses) if s["board"]["id"] == board_id]
        return self._page(request, mine, STATUS_FIELDS)

    async def _list_work_types(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, self._sorted(self.work_types), WORK_TYPE_FIELDS)

    async def _list_work_roles(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, self._sorted(self.work_roles), WORK_ROLE_FIELDS)

    async def _list_members(self, request: web.Request) -> web.StreamResponse:
        return self._page(request, self._sorted(self.members), MEMBER_FIELDS)

    async def _system_info(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(SYSTEM_INFO)

    async def _company_info(self, request: web.Request) -> web.StreamResponse:
        company = request.match_info["company"]
        known = {key.company_id.lower() for key in self.api_keys} | {name.lower() for name in self.site_companies}
        if company.lower() not in known:
            return web.json_response(None)  # ConnectWise's answer for a company the site does not know
        return web.json_response({
            "CompanyName": company, "Codebase": CODEBASE, "VersionCode": "v2025.1", "VersionNumber": "v4.6.12345",
            "CompanyID": company, "IsCloud": True, "SiteUrl": self.site_url.partition("://")[2],
        })  # fmt: skip
