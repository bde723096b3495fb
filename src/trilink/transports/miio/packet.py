"""The miIO packet codec: framing, checksum and encryption. Pure: no I/O, no clock.

A packet is a 32-byte header and an encrypted payload::

    offset  size  field
         0     2  magic 0x2131
         2     2  total length of the packet (header included)
         4     4  unknown (0 in requests and answers; 0xFFFFFFFF in a hello)
         8     4  device id
        12     4  stamp (the device's seconds counter, as learnt in the handshake)
        16    16  checksum: MD5(header[0:16] + token + encrypted payload)
        32     …  payload: AES-128-CBC, PKCS#7, key = MD5(token), IV = MD5(key + token)

A hello is the bare 32-byte header with every field after the length set to 0xFF; the
device answers with a 32-byte header carrying its id and stamp (its checksum field is
not a checksum: devices put zeros, 0xFF or their token there, so it is ignored).
Inside the payload is JSON-RPC: ``{"id": n, "method": …, "params": …}`` and
``{"id": n, "result": …}`` or ``{"id": n, "error": {"code": …, "message": …}}``.

Everything a device sends is untrusted: :func:`parse_packet` and :func:`decode_reply`
raise :class:`BadPacket` with a reason label for any input that breaks a rule, and no
other exception.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from typing import Any, Final

import orjson
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from trilink.transports.miio.errors import UNREADABLE_ANSWER, BadPacket, InvalidToken

#: The first two bytes of every miIO packet.
MAGIC: Final = 0x2131
#: Size of the header, and of a hello and its answer.
HEADER_SIZE: Final = 32
#: The length field is 16 bits wide.
MAX_PACKET: Final = 0xFFFF
#: The UDP port miIO devices listen on.
PORT: Final = 54321
#: The hello (handshake) packet: magic, length 32, then 0xFF up to the end.
HELLO: Final = struct.pack(">HH", MAGIC, HEADER_SIZE) + b"\xff" * 28

_HEAD: Final = struct.Struct(">HHIII")
_TOKEN_HEX: Final = re.compile(r"^[0-9a-fA-F]{32}$")
_UINT32: Final = 0xFFFFFFFF


def parse_token(text: str) -> bytes:
    """The 16 token bytes of a device token written as 32 hexadecimal characters.

    Raises :class:`InvalidToken` saying what is wrong, without repeating the token.
    """
    if not isinstance(text, str):
        raise InvalidToken(
            f"a token must be a string of 32 hexadecimal characters, got {type(text).__name__}"
        )
    stripped = text.strip()
    if len(stripped) != 32:
        raise InvalidToken(f"a token has 32 hexadecimal characters, this one has {len(stripped)}")
    if not _TOKEN_HEX.match(stripped):
        bad = next(i for i, c in enumerate(stripped) if c not in "0123456789abcdefABCDEF")
        raise InvalidToken(f"a token has only the characters 0-9 and a-f; character {bad + 1} is not one")
    return bytes.fromhex(stripped)


class TokenCipher:
    """The keys one device token gives: AES-128-CBC for payloads, and the checksum.

    The token is kept only inside this object; its ``repr`` does not show it.
    """

    __slots__ = ("_cipher", "_token")

    def __init__(self, token: bytes) -> None:
        if len(token) != 16:
            raise InvalidToken(f"a token is 16 bytes, got {len(token)}")
        key = hashlib.md5(token).digest()
        iv = hashlib.md5(key + token).digest()
        self._token = bytes(token)
        self._cipher = Cipher(algorithms.AES128(key), modes.CBC(iv))

    def __repr__(self) -> str:
        return "TokenCipher(<token hidden>)"

    def encrypt(self, plain: bytes) -> bytes:
        """AES-128-CBC of ``plain`` with PKCS#7 padding."""
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plain) + padder.finalize()
        encryptor = self._cipher.encryptor()
        return encryptor.update(padded) + encryptor.finalize()

    def decrypt(self, data: bytes) -> bytes:
        """The plain text of ``data``; raises :class:`BadPacket` (``decrypt``) if it is not one."""
        if not data or len(data) % 16:
            raise BadPacket("decrypt", f"encrypted payload of {len(data)} bytes is not whole AES blocks")
        decryptor = self._cipher.decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise BadPacket("decrypt", "the payload's padding is wrong after decryption") from None

    def checksum(self, head: bytes, encrypted: bytes) -> bytes:
        """MD5 over the first 16 header bytes, the token and the encrypted payload."""
        return hashlib.md5(head + self._token + encrypted).digest()


@dataclass(frozen=True, slots=True)
class Packet:
    """A parsed packet: header fields and the decrypted payload (empty for a hello answer)."""

    device_id: int
    stamp: int
    unknown: int
    payload: bytes

    @property
    def is_hello(self) -> bool:
        """Whether this is a bare header (a hello, or a device's answer to one)."""
        return not self.payload


def build_packet(cipher: TokenCipher, device_id: int, stamp: int, plain: bytes) -> bytes:
    """A packet carrying ``plain`` (JSON bytes) to device ``device_id`` at ``stamp``."""
    encrypted = cipher.encrypt(plain)
    length = HEADER_SIZE + len(encrypted)
    if length > MAX_PACKET:
        raise ValueError(f"a packet of {length} bytes is over the protocol's {MAX_PACKET}")
    head = _HEAD.pack(MAGIC, length, 0, device_id & _UINT32, stamp & _UINT32)
    return head + cipher.checksum(head, encrypted) + encrypted


def build_hello_answer(device_id: int, stamp: int) -> bytes:
    """What a device answers to a hello (for test peers): its id and stamp, no checksum."""
    return _HEAD.pack(MAGIC, HEADER_SIZE, 0, device_id & _UINT32, stamp & _UINT32) + bytes(16)


def parse_packet(data: bytes, cipher: TokenCipher) -> Packet:
    """Check and decrypt one datagram.

    A 32-byte packet is a hello or the answer to one: it has no payload and its checksum
    field is not checked. Raises :class:`BadPacket` for anything else that breaks the
    framing, fails the checksum (usually: the token is wrong) or does not decrypt.
    """
    size = len(data)
    if size < HEADER_SIZE:
        raise BadPacket("too-short", f"{size} bytes is shorter than the {HEADER_SIZE}-byte header")
    if size > MAX_PACKET:
        raise BadPacket("too-long", f"{size} bytes is over the protocol's {MAX_PACKET}")
    magic, length, unknown, device_id, stamp = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise BadPacket("bad-magic", f"magic is 0x{magic:04x}, not 0x{MAGIC:04x}")
    if length != size:
        raise BadPacket("bad-length", f"the header says {length} bytes but the datagram has {size}")
    if size == HEADER_SIZE:
        return Packet(device_id, stamp, unknown, b"")
    encrypted = bytes(data[HEADER_SIZE:])
    expected = cipher.checksum(bytes(data[:16]), encrypted)
    if not hmac.compare_digest(expected, bytes(data[16:32])):
        raise BadPacket("bad-checksum", "the checksum does not match (is the token right?)")
    return Packet(device_id, stamp, unknown, cipher.decrypt(encrypted))


def parse_hello(data: bytes) -> Packet:
    """Parse a bare 32-byte header (a hello or its answer); raises :class:`BadPacket`."""
    if len(data) < HEADER_SIZE:
        raise BadPacket("too-short", f"a hello is {HEADER_SIZE} bytes, got {len(data)}")
    if len(data) > HEADER_SIZE:
        raise BadPacket("bad-length", f"a hello is {HEADER_SIZE} bytes, got {len(data)}")
    magic, length, unknown, device_id, stamp = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise BadPacket("bad-magic", f"magic is 0x{magic:04x}, not 0x{MAGIC:04x}")
    if length != HEADER_SIZE:
        raise BadPacket("bad-length", f"the header says {length} bytes but the datagram has {HEADER_SIZE}")
    return Packet(device_id, stamp, unknown, b"")


# ----------------------------------------------------------------- JSON-RPC
@dataclass(frozen=True, slots=True)
class Reply:
    """A device's answer: its request id and either ``result`` or an error code and message."""

    id: int
    result: Any = None
    error: tuple[int, str] | None = None


def encode_request(rid: int, method: str, params: Any) -> bytes:
    """The JSON payload of a request, NUL-terminated as the widely used clients send it."""
    try:
        body = orjson.dumps({"id": rid, "method": method, "params": params})
    except TypeError as exc:
        raise ValueError(f"{method}: parameters cannot be sent as JSON: {exc}") from None
    return body + b"\x00"


def decode_request(plain: bytes) -> dict[str, Any]:
    """A request as a device sees it (for test peers); raises :class:`BadPacket`."""
    message = _load(plain)
    if not isinstance(message.get("method"), str):
        raise BadPacket("not-object", "a request needs a string 'method'")
    return message


def encode_reply(rid: int, *, result: Any = None, error: tuple[int, str] | None = None) -> bytes:
    """The JSON payload of an answer (for test peers)."""
    if error is not None:
        return orjson.dumps({"id": rid, "error": {"code": error[0], "message": error[1]}})
    return orjson.dumps({"id": rid, "result": result})


def decode_reply(plain: bytes) -> Reply:
    """Read a device's JSON answer; raises :class:`BadPacket` if it is not one."""
    message = _load(plain)
    if "error" in message:
        return Reply(message["id"], error=_error_of(message["error"]))
    if "result" in message:
        return Reply(message["id"], message["result"])
    # some firmware (and python-miio's simulator) put the answer's fields beside the id
    return Reply(message["id"], {k: v for k, v in message.items() if k != "id"})


def _load(plain: bytes) -> dict[str, Any]:
    # devices end their JSON with NULs (and some with whitespace): not part of the document
    text = plain.rstrip(b"\x00 \t\r\n")
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadPacket("not-json", f"the payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(message, dict):
        raise BadPacket("not-object", f"the payload is JSON {type(message).__name__}, not an object")
    rid = message.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise BadPacket("bad-id", f"the payload has no integer 'id' (got {type(rid).__name__})")
    return message


def _error_of(error: Any) -> tuple[int, str]:
    """``(code, message)`` of an error object; devices spell the message ``message`` or ``error``."""
    if isinstance(error, dict):
        code = error.get("code")
        text = error.get("message", error.get("error", ""))
        if isinstance(code, int) and not isinstance(code, bool):
            return code, text if isinstance(text, str) else str(text)
        return UNREADABLE_ANSWER, f"error without an integer code: {str(error)[:200]}"
    return UNREADABLE_ANSWER, f"error: {str(error)[:200]}"
