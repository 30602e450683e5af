"""R13's grounding check (core/grounding.py): which tokens of a note count as concrete, when the
input holds them, and the properties the preview flow relies on."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.assistant.regenerate import REGENERATE, correction_text
from core.grounding import TokenKind, extract_tokens, occurs, violations
from core.grounding_words import COMMON_WORDS
from tests.unit.test_prompt_guardrail import concrete_values

INPUT = """Session: Printer offline for 3 users on floor 2
Ticket: #4821
Confirmed facts:
- The queue on print-srv02.corp.example held 40 stuck jobs
- Drops at exactly 60 minutes; share \\\\fs01\\scans is reachable
- Host 10.20.30.40/24 answers ping; error 0x80070005 in the log, Event ID 4625 twice
- KB 5034441 installed on build 19045.3803; Dana asked Ortega about it
- Mail from helpdesk@corp.example links https://status.corp.example/incidents/7
Fix: Clear the queue (status applied_success, confidence 80)"""


def kinds(text: str) -> list[tuple[TokenKind, str]]:
    return [(t.kind, t.text) for t in extract_tokens(text)]


@pytest.mark.parametrize(("text", "kind", "token"), [
    ("Reach 192.168.7.21 first.", TokenKind.IP, "192.168.7.21"),
    ("The range 10.9.0.0/16 is routed.", TokenKind.IP, "10.9.0.0/16"),
    ("It resolves to 2001:db8::7.", TokenKind.IP, "2001:db8::7"),
    ("It runs on dc01.contoso.local now.", TokenKind.HOST, "dc01.contoso.local"),
    ("Log on to SRV-FS03 and check.", TokenKind.HOST, "SRV-FS03"),
    ("Open \\\\nas02\\finance\\2024 again.", TokenKind.PATH, "\\\\nas02\\finance\\2024"),
    ("See C:\\ProgramData\\Vendor\\app.log.", TokenKind.PATH, "C:\\ProgramData\\Vendor\\app.log"),
    ("Tail /var/log/syslog for it.", TokenKind.PATH, "/var/log/syslog"),
    ("Set HKLM\\Software\\Policies\\X to 1.", TokenKind.PATH, "HKLM\\Software\\Policies\\X"),
    ("Upgrade to 4.2.17 today.", TokenKind.VERSION, "4.2.17"),
    ("Needs build 22631 or later.", TokenKind.VERSION, "build 22631"),
    ("Install KB5036893 tonight.", TokenKind.KB, "KB5036893"),
    ("Patched CVE-2023-23397 last week.", TokenKind.CVE, "CVE-2023-23397"),
    ("It fails with 0x8004010F.", TokenKind.ERROR_CODE, "0x8004010F"),
    ("We saw Event ID 4740 on the DC.", TokenKind.ERROR_CODE, "Event ID 4740"),
    ("The portal answered HTTP 502 twice.", TokenKind.ERROR_CODE, "HTTP 502"),
    ("It returned a 403 error.", TokenKind.ERROR_CODE, "403"),
    ("The installer ended with exit code 1603.", TokenKind.ERROR_CODE, "exit code 1603"),
    ("Open port 3389 only inside.", TokenKind.ERROR_CODE, "port 3389"),
    ("It threw ERROR_ACCESS_DENIED.", TokenKind.ERROR_CODE, "ERROR_ACCESS_DENIED"),
    ("The mailbox holds 49.5 GB now.", TokenKind.QUANTITY, "49.5 GB"),
    ("It took 45 min to sync.", TokenKind.QUANTITY, "45 min"),
    ("Affects 12 users in total.", TokenKind.QUANTITY, "12 users"),
    ("Disk is 97% full.", TokenKind.QUANTITY, "97%"),
    ("Write to ops@tailspin.example when done.", TokenKind.EMAIL, "ops@tailspin.example"),
    ("Details at https://kb.vendor.example/a/123.", TokenKind.URL, "https://kb.vendor.example/a/123"),
    ("See ticket #55120 for more.", TokenKind.TICKET, "#55120"),
    ("The user asked Priya Raman to check.", TokenKind.NAME, "Priya Raman"),
    ("We reinstalled Acrobat on the PC.", TokenKind.NAME, "Acrobat"),
])  # fmt: skip
def test_each_kind_of_concrete_token_is_extracted_and_found_when_invented(text: str, kind: TokenKind, token: str) -> None:
    assert (kind, token) in kinds(text)
    assert [t.text for t in violations(text, INPUT)] == [token]


@pytest.mark.parametrize("draft", [
    "The queue on PRINT-SRV02.corp.example held 40 stuck jobs.",  # case-insensitive
    "Host 10.20.30.40 answers; the share \\\\FS01\\Scans is reachable.",  # the address of a CIDR, a path's case
    "It dropped every 60 minutes (a 60-minute cycle), for 3 users.",  # a unit's spellings
    "Error 0x80070005 and Event ID 4625 were logged; KB5034441 is installed.",  # KB 5034441 without the space
    "The machine runs build 19045.3803, at 80% confidence.",
    "Mail came from HelpDesk@corp.example; see https://status.corp.example/incidents/7.",
    "Ticket #4821: the engineer spoke with Ortega, and Dana's note agrees.",  # names in the input, possessive
    "## Root Cause\nThe Print Queue stalled.",  # a heading and a sentence's first word are not names
    "Restart the spooler. Then clear the queue: Check again in a minute.",
])  # fmt: skip
def test_tokens_the_input_holds_are_grounded(draft: str) -> None:
    assert violations(draft, INPUT) == ()


@pytest.mark.parametrize(("draft", "token"), [
    ("Host 10.20.30.4 answers.", "10.20.30.4"),  # a prefix of an input address is another address
    ("Host 10.20.30.400 answers.", "10.20.30.400"),  # not an address, still a concrete number
    ("KB503444 is installed.", "KB503444"),
    ("It runs build 19045.3804 now.", "build 19045.3804"),
    ("It dropped every 30 minutes.", "30 minutes"),
    ("It affects 4 users.", "4 users"),
])  # fmt: skip
def test_near_misses_are_not_grounded(draft: str, token: str) -> None:
    assert [t.text for t in violations(draft, INPUT)] == [token]


def test_names_are_checked_conservatively() -> None:
    assert violations("Priya checked it.", INPUT) == ()  # a sentence's first word is never taken for a name
    assert violations("- Microsoft confirmed it.", INPUT) == ()  # nor a list item's
    assert violations("Checked on Monday at 9 AM (UTC) with IT.", INPUT) == ()  # common note words
    assert [t.text for t in violations("It was fixed by Chen Wu.", INPUT)] == ["Chen Wu"]  # one multi-word name
    assert [t.text for t in violations("Call the vendor: Globex will ship it.", INPUT)] == []  # after a colon
    assert [t.text for t in violations("Rebooted — then Globex shipped it.", INPUT)] == ["Globex"]


def test_each_violation_is_listed_once_with_trailing_punctuation_stripped() -> None:
    found = violations("Ping 10.1.1.1, then 10.1.1.1. Then 10.1.1.1!", INPUT)
    assert [(t.kind, t.text, t.key) for t in found] == [(TokenKind.IP, "10.1.1.1", "10.1.1.1")]


def test_ipv6_compares_by_address_not_spelling() -> None:
    assert violations("It answers on 2001:DB8:0:0::7.", "The host is 2001:db8::7") == ()
    assert [t.text for t in violations("It answers on 2001:db8::8.", "The host is 2001:db8::7")] == ["2001:db8::8"]


def test_occurs_respects_token_edges() -> None:
    assert occurs("10.0.0.5", "at 10.0.0.5, then") and occurs("10.0.0.5", "(10.0.0.5/24)")
    assert not occurs("10.0.0.5", "10.0.0.50") and not occurs("0.0.5", "10.0.0.5") and not occurs("kb50", "kb5034")
    assert occurs("corp.example", "srv01.corp.example")


def test_a_large_input_is_checked_quickly() -> None:
    import time

    facts = "\n".join(f"- Fact {i}: host srv{i:04d}.corp.example at 10.{i % 250}.{i // 250}.7 had {i} errors" for i in range(1000))
    log = "\n".join(f"2026-11-02 09:{i % 60:02d} WARN spooler 0x800{i:05X} on PRINT-{i:03d}" for i in range(2000))
    started = time.monotonic()
    assert violations("Host srv0999.corp.example at 10.249.3.7 had 999 errors.", facts + "\n" + log) == ()
    assert time.monotonic() - started < 5


def test_the_regeneration_instruction_lists_the_tokens_and_holds_no_sample_values() -> None:
    assert concrete_values(REGENERATE) == []
    text = correction_text(("10.0.0.9", "KB5034441"))
    assert "- 10.0.0.9\n- KB5034441" in text and "input" in text
    many = correction_text(tuple(f"t{i}" for i in range(40)))
    assert "(15 more)" in many


# ---- properties ---------------------------------------------------------------------------------
FRAGMENTS = ["10.0.0.5", "10.0.0.0/24", "fe80::1", "KB5034441", "KB 5034441", "CVE-2024-21412", "0x80070005",
             "Event ID 4625", "HTTP 503", "\\\\fs01\\scans", "C:\\Temp\\a.log", "/var/log/syslog", "v2.4.1", "build 19045",
             "15 GB", "30 min", "3 users", "80%", "dana@corp.example", "https://x.example/p?q=1", "srv-dc01",
             "print.corp.example", "#1001", "Ortega", "Dana's", "ERROR_ACCESS_DENIED", "##", "- ", ". ", ": ", "\n"]  # fmt: skip
texts = st.lists(st.one_of(st.text(max_size=25), st.sampled_from(FRAGMENTS)), max_size=30).map(" ".join)


def folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@settings(max_examples=300, deadline=None)
@given(draft=st.one_of(st.text(), texts), source=st.one_of(st.text(), texts))
def test_never_raises(draft: str, source: str) -> None:
    assert isinstance(violations(draft, source), tuple)
    extract_tokens(draft)


@settings(max_examples=300, deadline=None)
@given(source=texts, seed=st.integers(0, 2**32))
def test_a_note_made_only_of_input_text_has_no_violations(source: str, seed: int) -> None:
    lines = source.split("\n")
    rng = random.Random(seed)
    picked = rng.sample(lines, k=rng.randint(0, len(lines)))
    assert violations(source, source) == ()
    assert violations("\n".join(picked), source) == ()
    assert violations("\n".join(["## Problem", *picked, "## Resolution", *reversed(picked)]), source) == ()


INVENTED = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.integers(1_000_000, 9_999_999).map(lambda n: f"KB{n}"),
    st.integers(1_000, 99_999).map(lambda n: f"CVE-2025-{n}"),
    st.tuples(st.from_regex(r"[a-z]{4,10}[0-9]{0,2}", fullmatch=True), st.from_regex(r"[a-z]{3,8}", fullmatch=True))
    .map(lambda p: f"\\\\{p[0]}\\{p[1]}"),
    st.from_regex(r"[A-Z][a-z]{5,9}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(source=texts, token=INVENTED, seed=st.integers(0, 2**32))
def test_an_invented_token_is_always_found(source: str, token: str, seed: int) -> None:
    core = token.lstrip("\\").split("\\")[0].removeprefix("KB").removeprefix("CVE-2025-")
    assume(folded(core) not in folded(source) and token.casefold() not in COMMON_WORDS)
    lines = source.split("\n")
    rng = random.Random(seed)
    lines.insert(rng.randint(0, len(lines)), f"Checked {token} again.")
    found = violations("\n".join(lines), source)
    assert token.casefold() in [t.key for t in found] or token in [t.text for t in found], found
