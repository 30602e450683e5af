"""core.psa value types and `parse_ticket_ref` (R34): the ids people paste into chat."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.psa.cw_site import cw_settings
from core.errors import DomainError, InvalidInput, NotFound
from core.psa import (
    PsaCredentials,
    PsaList,
    PsaNotFound,
    PsaPermissionError,
    PsaVerificationError,
    parse_ticket_ref,
)

ticket_ids = st.integers(min_value=1, max_value=2**31 - 1)
# Surrounding chat text without digits, so the only number is the ticket id.
filler = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=30)

FORMATS = [
    "#{id}",
    "# {id}",
    "CW {id}",
    "cw#{id}",
    "CW-{id}",
    "ticket {id}",
    "Ticket #{id}",
    "TICKET: {id}",
    "https://na.myconnectwise.net/v4_6_release/ConnectWise.aspx?locale=en_US&routeTo=ServiceFV&recid={id}",
    "https://eu.example.com/v2024_1/services/system_io/Service/fv_sr100_request.rsp?service_recid={id}&companyName=acme",
    "https://api.example.com/v4_6_release/apis/3.0/service/tickets/{id}",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#12345", 12345),
        ("can you look at CW 4711 please", 4711),
        ("ticket 99 and ticket 100", 99),
        ("42", 42),
        ("  #7 ", 7),
        ("https://x.example/v4_6_release/ConnectWise.aspx?companyName=10&recid=555&x=1", 555),
        ("see https://x.example/a?recid=555 not #77", 555),
        ("C#123 is a language", None),
        ("printer on floor 2", None),
        ("#0", None),
        ("#99999999999", None),
        ("tickets 12", None),
        ("", None),
        ("ticket #", None),
    ],
)
def test_examples(text: str, expected: int | None) -> None:
    assert parse_ticket_ref(text) == expected


@given(ticket_id=ticket_ids, template=st.sampled_from(FORMATS), before=filler, after=filler)
def test_every_format_finds_the_id_inside_chat_text(
    ticket_id: int, template: str, before: str, after: str
) -> None:
    ref = template.format(id=ticket_id)
    assert parse_ticket_ref(f"{before} {ref} {after}") == ticket_id


@given(text=filler)
def test_text_without_digits_has_no_ticket(text: str) -> None:
    assert parse_ticket_ref(text) is None


@given(text=st.text(max_size=200))
def test_never_raises_and_only_returns_valid_ids(text: str) -> None:
    result = parse_ticket_ref(text)
    assert result is None or (1 <= result <= 2**31 - 1 and str(result) in text)


def test_credentials_repr_hides_the_private_key() -> None:
    credentials = PsaCredentials(
        kind="connectwise",
        settings={"site": "na.myconnectwise.net", "company": "acme", "public_key": "pub", "client_id": "guid"},
        secrets={"private_key": "TOPSECRET"},
    )  # fmt: skip
    settings = cw_settings(credentials)
    assert settings.private_key == "TOPSECRET"
    for shown in (credentials, settings):
        assert "TOPSECRET" not in repr(shown)
        assert "TOPSECRET" not in str(shown)
        assert "TOPSECRET" not in f"{[shown]}"
        assert "acme" in repr(shown)


def test_missing_settings_are_named() -> None:
    credentials = PsaCredentials(kind="connectwise", settings={"site": "na.myconnectwise.net", "company": " "})
    with pytest.raises(InvalidInput) as caught:
        cw_settings(credentials)
    for label in ("Company id", "public key", "private key", "clientId"):
        assert label in str(caught.value)
    assert "Site" not in str(caught.value) and "codebase" not in str(caught.value)


def test_verification_error_names_both_statuses() -> None:
    error = PsaVerificationError(42, "Resolved", "In Progress", psa_name="ConnectWise")
    assert str(error) == "ConnectWise kept ticket #42 in 'In Progress' instead of 'Resolved'"
    assert str(PsaVerificationError(42, "Resolved", "New", detail="why")) == (
        "The PSA kept ticket #42 in 'New' instead of 'Resolved' (why)"
    )
    assert isinstance(error, DomainError)
    assert (error.ticket_id, error.requested, error.actual) == (42, "Resolved", "In Progress")


def test_error_types_fit_the_domain_hierarchy() -> None:
    assert isinstance(PsaNotFound("x"), NotFound)
    error = PsaPermissionError("System › Member Maintenance (Inquire level)")
    assert error.permission in str(error)


def test_psa_list_is_a_list_with_a_warning() -> None:
    empty: PsaList[int] = PsaList([], warning="lacks X")
    assert empty == [] and empty.warning == "lacks X"
    assert PsaList([1, 2]).warning is None
