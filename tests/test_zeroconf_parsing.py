"""The pure parts of zeroconf discovery: names, TXT records, the candidate table, decisions.

No sockets here: these are the functions the service feeds with what the network said.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trilink.transports.zeroconf.adoption import (
    AdoptionError,
    AdoptionRequest,
    KnownMiio,
    MiioAdoption,
    adopted_check,
    broker_config,
    miio_adoption,
)
from trilink.transports.zeroconf.announce import (
    announce_addresses,
    hub_server,
    is_loopback_host,
    should_announce,
)
from trilink.transports.zeroconf.candidates import (
    MAX_TXT_BYTES,
    Candidate,
    Rejected,
    candidate_from,
    decode_txt,
)
from trilink.transports.zeroconf.names import (
    MIIO_TYPE,
    MQTT_TYPE,
    MiioName,
    broker_candidate_id,
    instance_label,
    parse_miio_instance,
)
from trilink.transports.zeroconf.settings import ZeroconfSettings
from trilink.transports.zeroconf.table import KEEP_SKIPPED, CandidateTable

TOKEN = "0123456789abcdef0123456789ABCDEF"


def txt(**pairs: str) -> bytes:
    out = b""
    for key, value in pairs.items():
        item = f"{key}={value}".encode()
        out += bytes([len(item)]) + item
    return out


def miio(did: int = 12345678, address: str = "192.168.1.20", **txt_pairs: str) -> Candidate:
    return candidate_from(
        MIIO_TYPE,
        f"zhimi-airpurifier-m1_miio{did}.{MIIO_TYPE}",
        addresses=[address],
        port=54321,
        server=f"zhimi-airpurifier-m1_miio{did}.local.",
        text=txt(**txt_pairs),
    )


# ------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("zhimi-airpurifier-m1_miio12345678", MiioName("zhimi.airpurifier.m1", 12345678)),
        ("yeelink-light-color1_miio55443322", MiioName("yeelink.light.color1", 55443322)),
        ("Chuangmi-Plug-M1_miio1", MiioName("chuangmi.plug.m1", 1)),
        ("yeelink-bhf_light-v5_miio77", MiioName("yeelink.bhf_light.v5", 77)),
        ("odd-name_miio-x_miio5", None),
        ("a-b_miio1_miio2", None),
        ("lumi-gateway-v3_miio4294967295", MiioName("lumi.gateway.v3", 2**32 - 1)),
        ("zhimi-airpurifier-m1_miio4294967296", None),  # beyond 32 bits
        ("zhimi-airpurifier-m1_miio0", None),
        ("zhimi-airpurifier-m1", None),
        ("zhimi_miio1234", None),  # a model has at least two parts
        ("zhimi-airpurifier-m1_miio12ab", None),
        ("zhimi airpurifier_miio12", None),
        ("", None),
    ],
)
def test_miio_instance_names_give_model_and_device_id(label: str, expected: MiioName | None) -> None:
    assert parse_miio_instance(label) == expected


@given(st.text(max_size=200))
def test_any_label_parses_or_gives_none(label: str) -> None:
    parsed = parse_miio_instance(label)
    assert parsed is None or 0 < parsed.device_id < 2**32


def test_instance_labels_and_ids() -> None:
    assert instance_label(f"x-y_miio1.{MIIO_TYPE}", MIIO_TYPE) == "x-y_miio1"
    assert instance_label(f"X-Y_miio1.{MIIO_TYPE.upper()}", MIIO_TYPE) == "X-Y_miio1"
    assert instance_label(MIIO_TYPE, MIIO_TYPE) is None
    assert instance_label(f"broker.{MQTT_TYPE}", MIIO_TYPE) is None
    assert instance_label("a" * 64 + "." + MIIO_TYPE, MIIO_TYPE) is None  # longer than a DNS label
    assert broker_candidate_id("Broker._mqtt._tcp.local.") == broker_candidate_id("broker._MQTT._tcp.local.")
    assert broker_candidate_id("a._mqtt._tcp.local.") != broker_candidate_id("b._mqtt._tcp.local.")


# --------------------------------------------------------------------------- TXT
def test_txt_records_decode_leniently() -> None:
    assert decode_txt(b"") == {}
    assert decode_txt(txt(epoch="1", MAC="78:11")) == {"epoch": "1", "mac": "78:11"}
    assert decode_txt(b"\x04flag\x04a=\xff\xfe") == {"flag": "", "a": "\ufffd\ufffd"}
    assert decode_txt(b"\x03a=1\x03a=2") == {"a": "1"}  # the first wins (RFC 6763 §6.4)
    assert decode_txt(b"\x00\x02=x") == {}  # empty strings and empty keys are ignored


def test_broken_or_huge_txt_records_are_rejected() -> None:
    with pytest.raises(Rejected) as caught:
        decode_txt(b"\x09short")
    assert caught.value.reason == "txt-malformed"
    with pytest.raises(Rejected) as caught:
        decode_txt((b"\xff" + b"x" * 255) * 6)  # well formed, but 1536 bytes
    assert caught.value.reason == "txt-too-large"
    assert len(decode_txt(b"\xff" + b"x" * 255)) == 1 and MAX_TXT_BYTES >= 256


@given(st.binary(max_size=2000))
def test_any_txt_bytes_decode_or_are_rejected(data: bytes) -> None:
    try:
        decoded = decode_txt(data)
    except Rejected as exc:
        assert exc.reason in ("txt-malformed", "txt-too-large")
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in decoded.items())


# -------------------------------------------------------------------- candidates
def test_a_miio_announcement_becomes_a_candidate() -> None:
    c = miio(address="192.168.1.20", epoch="1")
    assert c.id == "miio-12345678" and c.kind == "miio"
    assert (c.model, c.device_id, c.host, c.port) == ("zhimi.airpurifier.m1", 12345678, "192.168.1.20", 54321)
    assert c.server == "zhimi-airpurifier-m1_miio12345678.local" and c.txt == {"epoch": "1"}


def test_the_host_prefers_ipv4() -> None:
    c = candidate_from(
        MQTT_TYPE,
        f"b.{MQTT_TYPE}",
        addresses=["fe80::1%2", "0.0.0.0", "224.0.0.251", "bogus", "10.0.0.5", "10.0.0.5"],
        port=1883,
        server=None,
        text=None,
    )
    assert c.addresses == ("fe80::1%2", "10.0.0.5") and c.host == "10.0.0.5"


@pytest.mark.parametrize(
    ("service_type", "name", "addresses", "port", "reason"),
    [
        ("_hap._tcp.local.", "x._hap._tcp.local.", ["10.0.0.1"], 80, "type"),
        (MIIO_TYPE, f"x.{MQTT_TYPE}", ["10.0.0.1"], 54321, "name"),
        (MIIO_TYPE, f"purifier.{MIIO_TYPE}", ["10.0.0.1"], 54321, "name"),
        (MIIO_TYPE, f"zhimi-fan-v2_miio1.{MIIO_TYPE}", [], 54321, "no-address"),
        (MIIO_TYPE, f"zhimi-fan-v2_miio1.{MIIO_TYPE}", ["0.0.0.0"], 54321, "no-address"),
        (MIIO_TYPE, f"zhimi-fan-v2_miio1.{MIIO_TYPE}", ["10.0.0.1"], None, "port"),
        (MQTT_TYPE, f"b.{MQTT_TYPE}", ["10.0.0.1"], 0, "port"),
    ],
)
def test_malformed_announcements_are_rejected_with_a_reason(
    service_type: str, name: str, addresses: list[str], port: int | None, reason: str
) -> None:
    with pytest.raises(Rejected) as caught:
        candidate_from(service_type, name, addresses=addresses, port=port, server=None, text=None)
    assert caught.value.reason == reason and str(caught.value)


# ------------------------------------------------------------------------- table
def test_the_table_adds_updates_confirms_removes_and_expires() -> None:
    table = CandidateTable(max_candidates=10)
    first = miio(epoch="1")
    assert table.upsert(first, now=100.0, mono=1.0) == "added"
    assert table.upsert(first, now=110.0, mono=2.0) == "unchanged"
    assert table.upsert(miio(epoch="2"), now=120.0, mono=3.0) == "updated"
    entry = table.get(first.id)
    assert (entry.first_seen, entry.last_seen, entry.candidate.txt) == (100.0, 120.0, {"epoch": "2"})
    assert table.confirm(first.service.upper(), now=130.0, mono=4.0) and not table.confirm("x", 0, 0)
    assert table.stale(mono=8.0, max_age=5.0) == []
    assert table.stale(mono=9.5, max_age=5.0) == [entry.candidate]
    assert table.remove(first.service, "expired") == entry.candidate and table.remove(first.service) is None
    assert len(table) == 0
    assert table.stats() == {
        "candidates": 0, "added": 1, "updated": 1, "removed": 0, "expired": 1, "skipped": 0,
        "skipped_by_reason": {},
    }  # fmt: skip


def test_the_same_device_under_a_new_name_replaces_the_old_name() -> None:
    table = CandidateTable(max_candidates=10)
    old = miio()
    renamed = candidate_from(
        MIIO_TYPE, f"zhimi-airpurifier-m2_miio12345678.{MIIO_TYPE}", addresses=["10.0.0.9"], port=54321,
        server=None, text=None,
    )  # fmt: skip
    table.upsert(old, 1.0, 1.0)
    assert table.upsert(renamed, 2.0, 2.0) == "updated"
    assert table.by_service(old.service) is None and table.remove(old.service) is None
    assert table.get("miio-12345678").candidate.model == "zhimi.airpurifier.m2"


def test_a_full_table_refuses_and_remembers_few_skips() -> None:
    table = CandidateTable(max_candidates=1)
    table.upsert(miio(1), 1.0, 1.0)
    assert table.upsert(miio(2), 1.0, 1.0) == "full"
    assert table.upsert(miio(1, epoch="new"), 1.0, 1.0) == "updated"  # known ones still update
    for i in range(KEEP_SKIPPED + 5):
        table.skip("x" * 500 + str(i), Rejected("name", "odd"), 2.0)
    assert len(table.recent_skips) == KEEP_SKIPPED
    assert len(table.recent_skips[-1].service) <= 121
    assert table.stats()["skipped_by_reason"] == {"table-full": 1, "name": KEEP_SKIPPED + 5}


# ---------------------------------------------------------------------- announce
@pytest.mark.parametrize(
    ("setting", "host", "expected"),
    [
        ("auto", "127.0.0.1", False),
        ("auto", "127.0.1.1", False),
        ("auto", "::1", False),
        ("auto", "[::1]", False),
        ("auto", "localhost", False),
        ("auto", "0.0.0.0", True),
        ("auto", "192.168.1.10", True),
        ("auto", "hub.lan", True),
        (True, "127.0.0.1", True),
        (False, "0.0.0.0", False),
    ],
)
def test_the_hub_announces_itself_only_beyond_loopback_unless_told(
    setting: bool | str, host: str, expected: bool
) -> None:
    assert should_announce(setting, host) is expected  # type: ignore[arg-type]


def test_announced_addresses() -> None:
    machine = ["127.0.0.1", "192.168.1.10", "10.8.0.2", "192.168.1.10"]
    assert announce_addresses("192.168.1.10", (), machine) == ["192.168.1.10"]
    assert announce_addresses("127.0.0.1", (), machine) == ["127.0.0.1"]  # only when forced
    assert announce_addresses("0.0.0.0", (), machine) == ["192.168.1.10", "10.8.0.2"]
    assert announce_addresses("0.0.0.0", ("10.8.0.2",), machine) == ["10.8.0.2"]
    assert announce_addresses("hub.lan", (), machine) == ["192.168.1.10", "10.8.0.2"]
    assert announce_addresses("fd00::2", (), machine) == []  # IPv6 binds are not announced (v4 only)
    assert is_loopback_host("localhost.") and not is_loopback_host("hub.lan")
    assert hub_server("My Home!") == "trilink-my-home.local." and hub_server("***") == "trilink-hub.local."


# ---------------------------------------------------------------------- settings
def test_settings_defaults_and_errors() -> None:
    s = ZeroconfSettings()
    assert (s.enabled, s.announce, s.interfaces) == (True, "auto", ())
    for bad, field in [
        ({"announce": "yes"}, "announce"),
        ({"interfaces": ("eth0",)}, "interfaces"),
        ({"resolve_timeout": 0}, "resolve_timeout"),
        ({"refresh_interval": 10, "expire_after": 5}, "expire_after"),
        ({"max_candidates": 0}, "max_candidates"),
        ({"instance_name": "x" * 64}, "instance_name"),
    ]:
        with pytest.raises(ValueError, match=f"zeroconf.{field}"):
            ZeroconfSettings(**bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- adoption
def test_a_miio_adoption_needs_a_well_formed_token_and_never_shows_it() -> None:
    c = miio()
    device = miio_adoption(c, AdoptionRequest(TOKEN, name="Purifier", room="bedroom"))
    assert device == MiioAdoption(
        "192.168.1.20", 54321, 12345678, "zhimi.airpurifier.m1", TOKEN.lower(), "Purifier", "bedroom"
    )
    assert TOKEN.lower() not in repr(device) and TOKEN not in repr(AdoptionRequest(TOKEN))
    assert (
        miio_adoption(c, AdoptionRequest(TOKEN, model="zhimi.airpurifier.v6")).model == "zhimi.airpurifier.v6"
    )
    for request in (AdoptionRequest(), AdoptionRequest("abc"), AdoptionRequest("g" * 32)):
        with pytest.raises(AdoptionError) as caught:
            miio_adoption(c, request)
        assert caught.value.reason == "invalid" and (request.token or "-") not in str(caught.value)
    with pytest.raises(AdoptionError, match="not a miIO model"):
        miio_adoption(c, AdoptionRequest(TOKEN, model="Zhimi Purifier"))


def test_the_adopted_check_matches_device_id_address_or_broker() -> None:
    known = [KnownMiio("192.168.1.99", 12345678), KnownMiio("192.168.1.30", None)]
    check = adopted_check(miio=lambda: known, broker=("nas.local", 1883))
    assert check(miio(12345678, "10.0.0.1"))  # by device id
    assert check(miio(1, "192.168.1.30"))  # by address
    assert not check(miio(2, "192.168.1.31"))
    broker = candidate_from(
        MQTT_TYPE, f"b.{MQTT_TYPE}", addresses=["10.0.0.7"], port=1883, server="NAS.local.", text=None
    )
    assert check(broker)
    assert adopted_check(broker=("10.0.0.7", 1883))(broker)
    assert not adopted_check(broker=("10.0.0.7", 8883))(broker)
    assert not adopted_check()(broker) and not adopted_check()(miio())


def test_a_broker_is_adopted_as_config_to_apply() -> None:
    broker = candidate_from(
        MQTT_TYPE, f"b.{MQTT_TYPE}", addresses=["10.0.0.7"], port=8883, server="nas.local.", text=None
    )
    config = broker_config(broker)
    assert config["settings"] == {"host": "10.0.0.7", "port": 8883}
    assert config["config"] == "mqtt:\n  host: 10.0.0.7\n  port: 8883\n"
    assert any("nas.local" in n for n in config["notes"]) and any("TLS" in n for n in config["notes"])
