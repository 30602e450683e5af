"""The HTTP layer of the ConnectWise client: auth, retries, error mapping, pagination, safe logs.

Kept apart from the operations so every request gets the same treatment:
- 429 waits for Retry-After (capped), always retried: ConnectWise did not process the request.
- 5xx and timeouts back off exponentially with jitter, but only for idempotent requests. A POST
  that may have landed is never replayed here: it raises PsaUnavailable(maybe_applied=True) and the
  outbox looks for what it wrote before writing again (R39).
- A 400 on a write is ConnectWise refusing it (a closed ticket, an unknown work role): PsaRefused
  with ConnectWise's own words, which retrying unchanged will not fix.
- The base URL is found lazily from the site when the codebase is not stored (`cw_site.py`).
- Logs carry method, path, query and status — never headers, so never the credentials.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.psa.cw_site import CompanyUnknown, CwSettings, api_base_url, discover_codebase, tls_context
from adapters.psa.permissions import permission_for
from core.psa import PsaError, PsaNotFound, PsaPermissionError, PsaRefused, PsaUnavailable

log = logging.getLogger("adapters.psa.connectwise")

MAX_PAGE_SIZE = 1000


def parse_retry_after(value: str | None, *, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date), capped; None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


def _cw_message(response: httpx.Response) -> str | None:
    """ConnectWise errors are `{"code", "message", "errors": [{"message", "field"}]}`."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] or None
    if not isinstance(body, dict):
        return None
    parts = [str(body["message"])] if body.get("message") else []
    for item in body.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            field = f"{item['field']}: " if item.get("field") else ""
            parts.append(f"{field}{item['message']}")
    return " ".join(parts)[:500] or None


class CredentialsRefused(PsaError):
    """A 401; `said` is ConnectWise's own message, which names the clientId when that is wrong."""

    def __init__(self, message: str, *, said: str | None) -> None:
        super().__init__(message)
        self.said = said or ""


class ConnectWiseApi:
    """Thin async JSON client for `apis/3.0`. Raises PSA domain errors, never httpx ones."""

    def __init__(
        self,
        settings: CwSettings,
        *,
        api_version: str,
        timeout: float,
        max_retries: int,
        transport: httpx.AsyncBaseTransport | None,
        base_url: str | None,
        backoff_base: float,
        max_retry_after: float,
    ) -> None:
        self._max_retries = max(0, max_retries)
        self._backoff_base = backoff_base
        self._max_retry_after = max_retry_after
        self._settings, self._timeout, self._transport = settings, timeout, transport
        self._base_known = base_url is not None or settings.codebase is not None
        self.codebase = settings.codebase
        self._client = httpx.AsyncClient(
            base_url=(base_url or api_base_url(settings, settings.codebase)).rstrip("/") + "/",
            auth=httpx.BasicAuth(f"{settings.company_id}+{settings.public_key}", settings.private_key),
            headers={
                "clientId": settings.client_id,
                "Accept": f"application/vnd.connectwise.com+json; version={api_version}",
                "User-Agent": "ResolutionFlow",
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            verify=tls_context(),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def ensure_base_url(self) -> None:
        """Finds the codebase from the site the first time it is needed (not stored yet)."""
        if self._base_known:
            return
        try:
            codebase = await discover_codebase(self._settings, timeout=self._timeout, transport=self._transport)
        except CompanyUnknown:
            raise PsaError(f"The ConnectWise site {self._settings.site} does not know the company "
                           f"'{self._settings.company_id}'. Check the company id in the settings.") from None
        except httpx.HTTPError:
            raise PsaUnavailable(f"The ConnectWise site {self._settings.site} could not be reached; "
                                 "check the site name, or try again shortly.") from None
        self.use_codebase(codebase)

    def use_codebase(self, codebase: str) -> None:
        self.codebase = codebase
        self._client.base_url = httpx.URL(api_base_url(self._settings, codebase))
        self._base_known = True

    def _backoff(self, attempt: int) -> float:
        return float(self._backoff_base * (2.0**attempt) * (1 + random.random()))

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
        permission: str | None = None,
    ) -> Any:
        """One call, with retries; returns the decoded JSON (None for an empty body).
        `what` names the resource for error messages, e.g. "ticket #42"; `permission` overrides
        the endpoint's default when the body decides what is needed (closing a ticket)."""
        await self.ensure_base_url()
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = await self._client.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                # A connect failure means the request never left: safe to replay even a POST.
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
                if (idempotent or never_sent) and attempt < self._max_retries:
                    delay = self._backoff(attempt)
                    log.warning("ConnectWise %s %s %s; retry in %.2fs", method, path, kind, delay)
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
                raise PsaUnavailable(
                    f"ConnectWise {kind} while reading or writing {what}; try again shortly.",
                    maybe_applied=not idempotent and not never_sent,
                ) from None
            log.debug(
                "ConnectWise %s %s params=%s -> %s in %.0f ms",
                method, path, params or {}, response.status_code, (time.monotonic() - started) * 1000,
            )  # fmt: skip
            status = response.status_code
            if status == 429 and attempt < self._max_retries:
                asked = parse_retry_after(
                    response.headers.get("Retry-After"), cap=self._max_retry_after
                )
                delay = self._backoff(attempt) if asked is None else asked
                log.warning("ConnectWise rate limit on %s %s; retry in %.2fs", method, path, delay)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            if status >= 500 and idempotent and attempt < self._max_retries:
                delay = self._backoff(attempt)
                log.warning("ConnectWise %s on %s %s; retry in %.2fs", status, method, path, delay)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            if status < 300:
                return self._decode(response, what)
            permission = permission or permission_for(method, path)
            raise self._error(response, permission=permission, what=what, write=not idempotent)

    def _decode(self, response: httpx.Response, what: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise PsaError(f"ConnectWise sent an unreadable answer for {what}.") from None

    def _error(self, response: httpx.Response, *, permission: str, what: str, write: bool = False) -> PsaError:
        status = response.status_code
        said = _cw_message(response)
        suffix = f" ConnectWise said: {said}" if said else ""
        if status == 403:
            return PsaPermissionError(
                permission,
                f"ConnectWise refused access to {what}: the API member's security role is "
                f"missing {permission}. Grant it in System › Security Roles.{suffix}",
            )
        if status == 404:
            return PsaNotFound(f"ConnectWise has no {what}.{suffix}")
        if status == 401:
            return CredentialsRefused(
                "ConnectWise did not accept the API credentials (company id, public/private key "
                f"or clientId). Check the ConnectWise settings of this account.{suffix}", said=said
            )
        if status in (400, 409, 422):
            return PsaRefused(f"ConnectWise refused {what}.{suffix}")
        if status == 429:
            return PsaUnavailable(f"ConnectWise is rate limiting requests for {what}; try again shortly.")
        if status >= 500:
            return PsaUnavailable(f"ConnectWise failed ({status}) on {what}; try again shortly.{suffix}",
                                  maybe_applied=write)
        return PsaError(f"ConnectWise rejected the request for {what} ({status}).{suffix}")

    async def get_all(
        self,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> list[dict[str, Any]]:
        """Pages with page/pageSize until a short page (or `limit` items)."""
        size = max(1, min(page_size, MAX_PAGE_SIZE, limit or MAX_PAGE_SIZE))
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = await self.request(
                "GET", path, what=what, params={**(params or {}), "page": page, "pageSize": size}
            )
            if not isinstance(batch, list):
                raise PsaError(f"ConnectWise sent an unexpected answer for {what}.")
            items.extend(item for item in batch if isinstance(item, dict))
            if len(batch) < size or (limit is not None and len(items) >= limit):
                return items[:limit] if limit is not None else items
            page += 1
