"""Address syntax: plain mailboxes, and internationalized ones (RFC 6531) for SMTPUTF8."""

from __future__ import annotations

import pytest

from outpost.addresses import international_email, is_valid_email, make_mailbox


@pytest.mark.parametrize(
    ("address", "stored"),
    [
        ("josé@dest.test", "josé@dest.test"),
        ("用户@例子.测试", "用户@xn--fsqu00a.xn--0zwm56d"),
        ("ünal.öz@Bücher.Example", "ünal.öz@xn--bcher-kva.example"),
        ("plain@Dest.TEST", "plain@dest.test"),
        ("a@xn--bcher-kva.example", "a@xn--bcher-kva.example"),
    ],
)
def test_international_addresses_keep_their_local_part_and_take_a_labels(
    address: str, stored: str
) -> None:
    assert international_email(address) == stored
    assert make_mailbox(address, international=True).address == stored


@pytest.mark.parametrize(
    "address",
    [
        "jo sé@dest.test",
        "jo\u00a0sé@dest.test",  # a no-break space
        "jo\u0085sé@dest.test",  # a C1 control
        "josé.@dest.test",
        "josé@",
        "josé",
        "josé@dest",
        "josé@-bad-.test",
        "é" * 33 + "@dest.test",  # 66 octets of local part
    ],
)
def test_not_international_mailboxes(address: str) -> None:
    assert international_email(address) is None
    with pytest.raises(ValueError, match="not a valid email address"):
        make_mailbox(address, international=True)


def test_utf8_is_refused_unless_asked_for() -> None:
    assert not is_valid_email("josé@dest.test")
    with pytest.raises(ValueError, match="not a valid email address"):
        make_mailbox("josé@dest.test")
