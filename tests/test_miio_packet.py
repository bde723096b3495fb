"""The miIO codec: known vectors, round trips, and fuzzing of everything a device can send.

The known vectors were made outside trilink, from the protocol description, with
OpenSSL and md5sum::

    TOKEN=00112233445566778899aabbccddeeff
    KEY=$(printf $TOKEN | xxd -r -p | md5sum | cut -c1-32)
    IV=$( (printf $KEY; printf $TOKEN) | xxd -r -p | md5sum | cut -c1-32)
    printf '{"id":1,"method":"miIO.info","params":[]}\\0' |
        openssl enc -aes-128-cbc -K $KEY -iv $IV | xxd -p
    # checksum: md5 of header[0:16] + token + encrypted payload
"""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.transports.miio import packet
from trilink.transports.miio.errors import BadPacket, InvalidToken
from trilink.transports.miio.packet import (
    HELLO,
    TokenCipher,
    build_hello_answer,
    build_packet,
    decode_reply,
    encode_request,
    parse_hello,
    parse_packet,
    parse_token,
)

TOKEN = bytes.fromhex("00112233445566778899aabbccddeeff")
KEY = "6e8311168ee16d6aa1aa48c64145003c"
IV = "6f434fa9acd75da73e5fb999f641cda2"
PLAIN = b'{"id":1,"method":"miIO.info","params":[]}\x00'
ENCRYPTED = "a5516ec6151955dc2bb2d43e7c84c18352a39a7f22fd2903d282a5783c6d56acd8b5de0116c0ebf35983dd023f849c97"
PACKET = (
    "21310050000000001234567800abcdef"  # magic, length 80, unknown 0, device id, stamp
    "5f2ed494ad2bfcfba897692baae85c0d" + ENCRYPTED  # checksum
)
CIPHER = TokenCipher(TOKEN)


# ------------------------------------------------------------- known vectors
def test_hello_is_the_documented_32_bytes() -> None:
    assert bytes.fromhex("21310020" + "ff" * 28) == HELLO


def test_key_and_iv_derivation_matches_the_description() -> None:
    key = hashlib.md5(TOKEN).digest()
    assert key.hex() == KEY
    assert hashlib.md5(key + TOKEN).hexdigest() == IV


def test_encryption_matches_openssl() -> None:
    assert CIPHER.encrypt(PLAIN).hex() == ENCRYPTED
    assert CIPHER.decrypt(bytes.fromhex(ENCRYPTED)) == PLAIN


def test_request_packet_matches_the_vector() -> None:
    assert encode_request(1, "miIO.info", []) == PLAIN
    assert build_packet(CIPHER, 0x12345678, 0x00ABCDEF, PLAIN).hex() == PACKET


def test_parse_the_vector() -> None:
    parsed = parse_packet(bytes.fromhex(PACKET), CIPHER)
    assert (parsed.device_id, parsed.stamp, parsed.unknown) == (0x12345678, 0x00ABCDEF, 0)
    assert parsed.payload == PLAIN
    assert packet.decode_request(parsed.payload) == {"id": 1, "method": "miIO.info", "params": []}


def test_hello_answer_round_trip() -> None:
    answer = build_hello_answer(0x49566565, 1700000000)
    assert answer[:4] == bytes.fromhex("21310020") and len(answer) == 32
    parsed = parse_hello(answer)
    assert (parsed.device_id, parsed.stamp, parsed.is_hello) == (0x49566565, 1700000000, True)
    # a 32-byte packet is a hello: its checksum field is not checked (devices put anything there)
    assert parse_packet(answer[:16] + b"\xaa" * 16, CIPHER).is_hello


def test_the_token_is_never_shown() -> None:
    assert TOKEN.hex() not in repr(CIPHER)


# ------------------------------------------------------------------- tokens
def test_parse_token_accepts_32_hex_characters() -> None:
    assert parse_token("00112233445566778899AABBCCDDEEFF\n") == TOKEN


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0011", "this one has 4"),
        ("00112233445566778899aabbccddeefg", "character 32 is not one"),
        ("", "this one has 0"),
        ("00112233445566778899aabbccddeeff00", "this one has 34"),
    ],
)
def test_parse_token_says_what_is_wrong_without_repeating_it(text: str, says: str) -> None:
    with pytest.raises(InvalidToken, match=says) as caught:
        parse_token(text)
    if text:
        assert text not in str(caught.value)


# --------------------------------------------------------------- round trips
@given(
    device_id=st.integers(0, 2**32 - 1),
    stamp=st.integers(0, 2**32 - 1),
    plain=st.binary(min_size=1, max_size=2000),
    token=st.binary(min_size=16, max_size=16),
)
def test_round_trip(device_id: int, stamp: int, plain: bytes, token: bytes) -> None:
    cipher = TokenCipher(token)
    parsed = parse_packet(build_packet(cipher, device_id, stamp, plain), cipher)
    assert (parsed.device_id, parsed.stamp, parsed.payload) == (device_id, stamp, plain)


def test_reply_shapes() -> None:
    assert decode_reply(b'{"id": 7, "result": [1]}\x00\x00').result == [1]
    error = decode_reply(b'{"id": 7, "error": {"code": -5001, "message": "invalid_arg"}}')
    assert error.error == (-5001, "invalid_arg")
    # python-miio's simulator spells the message "error"
    assert decode_reply(b'{"id": 7, "error": {"code": -2, "error": "unsupported"}}').error == (
        -2,
        "unsupported",
    )
    assert decode_reply(b'{"id": 7, "error": "busy"}').error == (-4004, "error: busy")
    # fields beside the id (no "result") are the result
    assert decode_reply(b'{"id": 7, "model": "x"}').result == {"model": "x"}


@pytest.mark.parametrize(
    ("plain", "reason"),
    [
        (b"{not json", "not-json"),
        (b"\xff\xfe{}", "not-json"),
        (b"", "not-json"),
        (b"[1, 2]", "not-object"),
        (b'"id"', "not-object"),
        (b'{"result": 0}', "bad-id"),
        (b'{"id": "7", "result": 0}', "bad-id"),
        (b'{"id": true, "result": 0}', "bad-id"),
    ],
)
def test_bad_replies_have_clear_reasons(plain: bytes, reason: str) -> None:
    with pytest.raises(BadPacket) as caught:
        decode_reply(plain)
    assert caught.value.reason == reason


# ------------------------------------------------------------------ fuzzing
VALID = bytes.fromhex(PACKET)


def _reason(data: bytes) -> str | None:
    """The reason a datagram is refused, or ``None``; any other exception fails the test."""
    try:
        decode_reply(parse_packet(data, CIPHER).payload)
    except BadPacket as exc:
        return exc.reason
    return None


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_bad_packet(data: bytes) -> None:
    _reason(data)


@given(st.binary(max_size=200))
def test_arbitrary_plain_payloads_only_raise_bad_packet(plain: bytes) -> None:
    with contextlib.suppress(BadPacket):
        decode_reply(plain)


@given(st.integers(0, len(VALID) - 1))
def test_truncated_packets_are_refused(cut: int) -> None:
    assert _reason(VALID[:cut]) == ("too-short" if cut < 32 else "bad-length")


@given(st.integers(0, len(VALID) - 1), st.integers(1, 255))
def test_any_flipped_byte_is_caught(index: int, flip: int) -> None:
    data = bytearray(VALID)
    data[index] ^= flip
    reason = _reason(bytes(data))
    if index < 2:
        assert reason == "bad-magic"
    elif index < 4:
        assert reason in ("bad-length", "too-short")
    else:
        # header fields, the checksum and the payload are all covered by the checksum
        assert reason == "bad-checksum"


@given(st.binary(min_size=1, max_size=64))
def test_appended_bytes_break_the_length(extra: bytes) -> None:
    assert _reason(VALID + extra) == "bad-length"


def test_oversized_datagram() -> None:
    assert _reason(VALID + bytes(70000)) == "too-long"


@given(st.binary(min_size=1, max_size=64).filter(lambda b: len(b) % 16 != 0))
def test_payload_that_is_not_whole_blocks(encrypted: bytes) -> None:
    """A correct checksum over a payload that cannot be AES: refused as ``decrypt``."""
    head = packet._HEAD.pack(packet.MAGIC, 32 + len(encrypted), 0, 1, 2)
    data = head + CIPHER.checksum(head, encrypted) + encrypted
    assert _reason(data) == "decrypt"


@given(st.binary(min_size=1, max_size=4).map(lambda b: (b * 16)[:16]))
def test_bad_padding_is_a_decrypt_failure(block: bytes) -> None:
    """Raw AES blocks whose plaintext ends in invalid padding."""
    encryptor = CIPHER._cipher.encryptor()
    plain_block = block[:15] + b"\x00"  # pad byte 0 is never valid PKCS#7
    encrypted = encryptor.update(plain_block) + encryptor.finalize()
    head = packet._HEAD.pack(packet.MAGIC, 32 + len(encrypted), 0, 1, 2)
    assert _reason(head + CIPHER.checksum(head, encrypted) + encrypted) == "decrypt"


def test_wrong_token_is_a_checksum_failure() -> None:
    other = TokenCipher(bytes(16))
    with pytest.raises(BadPacket, match="is the token right"):
        parse_packet(VALID, other)


def test_packets_over_the_protocol_limit_are_not_built() -> None:
    with pytest.raises(ValueError, match="over the protocol"):
        build_packet(CIPHER, 1, 2, bytes(70000))
