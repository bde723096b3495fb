"""YAML with line numbers: safe loading, the core schema, limits and errors that name the line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trilink.automation.errors import DefinitionError
from trilink.automation.yamlsrc import MAX_DEPTH, MAX_NODES, InputRef, Located, load_yaml, path_text

DOC = """\
automations:
  - id: first
    triggers:
      - type: time
        at: "07:00"
  - id: second
    triggers:
      - type: property
        device: ac-living
        property: 2.1
      - type: event
        device: car
        event: "3.1"
"""


def error_of(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load_yaml(text, "automations.yaml")
    return info.value


def test_data_and_source() -> None:
    doc = load_yaml(DOC, "automations.yaml")
    assert doc.source == "automations.yaml"
    assert doc.data["automations"][1]["triggers"][0] == {
        "type": "property",
        "device": "ac-living",
        "property": 2.1,
    }


def test_line_of_nodes() -> None:
    doc = load_yaml(DOC, "automations.yaml")
    assert doc.line_of(()) == 1
    assert doc.line_of(("automations",)) == 1
    assert doc.line_of(("automations", 0)) == 2
    assert doc.line_of(("automations", 0, "triggers", 0, "at")) == 5
    assert doc.line_of(("automations", 1, "triggers")) == 7
    assert doc.line_of(("automations", 1, "triggers", 0, "property")) == 10
    assert doc.line_of(("automations", 1, "triggers", 1)) == 11
    assert doc.line_of(("automations", 1, "triggers", 1, "event")) == 13


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    doc = load_yaml(DOC, "automations.yaml")
    assert doc.line_of(("automations", 1, "triggers", 0, "for")) == 8
    assert doc.line_of(("automations", 1, "actions", 3)) == 6
    assert doc.line_of(("nothing", "here")) == 1
    assert Located(None, "x").line_of(("a",)) is None


def test_path_text() -> None:
    assert path_text(("automations", 2, "triggers", 0, "property")) == "automations[2].triggers[0].property"
    assert path_text(()) == ""
    assert path_text((0, "a")) == "[0].a"
    assert path_text(("zones", "a b", "x.y")) == 'zones["a b"]["x.y"]'


def test_empty_documents_are_none() -> None:
    assert load_yaml("", "x").data is None
    assert load_yaml("# only a comment\n", "x").data is None
    assert load_yaml("---\n", "x").data is None


def test_core_schema_keeps_times_words_and_dates_as_text() -> None:
    data = load_yaml("a: 23:00\nb: 7:05\nc: on\nd: no\ne: 2026-06-21\nf: yes\ng: 1:30:00\nh: 010\n", "x").data
    assert data == {
        "a": "23:00",
        "b": "7:05",
        "c": "on",
        "d": "no",
        "e": "2026-06-21",
        "f": "yes",
        "g": "1:30:00",
        "h": 10,
    }


def test_core_schema_scalars() -> None:
    data = load_yaml(
        "t: true\nf: False\nn: null\ntilde: ~\nempty:\ni: -42\nx: 0x1F\no: 0o17\n"
        "fl: 2.5\ne: 1e3\ninf: -.inf\ns: '12'\nexplicit: !!str 5\nfi: !!float 3\n",
        "x",
    ).data
    assert data == {
        "t": True,
        "f": False,
        "n": None,
        "tilde": None,
        "empty": None,
        "i": -42,
        "x": 31,
        "o": 15,
        "fl": 2.5,
        "e": 1000.0,
        "inf": float("-inf"),
        "s": "12",
        "explicit": "5",
        "fi": 3.0,
    }
    assert isinstance(data["i"], int) and isinstance(data["fl"], float)


def test_input_tag_is_kept() -> None:
    data = load_yaml("who: !input car\nlist: [!input a, 2]\n", "bp.yaml").data
    assert data == {"who": InputRef("car"), "list": [InputRef("a"), 2]}


def test_anchors_aliases_and_merge_keys() -> None:
    data = load_yaml(
        "base: &b {device: ac-living, property: 2.1}\nuse: *b\nmerged:\n  <<: *b\n  property: 2.3\n", "x"
    ).data
    assert data["use"] == {"device": "ac-living", "property": 2.1}
    assert data["merged"] == {"device": "ac-living", "property": 2.3}
    # aliases give copies: changing one place does not change the other
    data["use"]["device"] = "other"
    assert data["base"]["device"] == "ac-living"


def test_merge_of_a_list_of_mappings_first_wins() -> None:
    data = load_yaml("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n", "x").data
    assert data["c"] == {"x": 1, "y": 1, "z": 2}


def test_syntax_error_names_the_line() -> None:
    err = error_of("automations:\n  - id: a\n    triggers: [\n  - id: b\n")
    assert err.source == "automations.yaml"
    assert err.line == 4
    assert "YAML syntax error" in err.reason


def test_bad_indentation_names_the_line() -> None:
    err = error_of("a:\n  b: 1\n c: 2\n")
    assert err.line == 3
    assert str(err).startswith("automations.yaml:3: YAML syntax error")


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    err = error_of("automations:\n  - id: a\n    name: one\n    name: two\n")
    assert err.line == 4
    assert err.path == "automations[0]"
    assert "duplicate key 'name'" in err.reason
    assert "first on line 3" in err.reason


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: !foo 1\n", 2, "unknown tag !foo"),
        ("a: !!python/object:os.system ls\n", 1, "unknown tag !!python/object:os.system"),
        ("a: !!python/name:os.system\n", 1, "unknown tag"),
        ("a: !!binary aGk=\n", 1, "unknown tag !!binary"),
        ("a: !!timestamp 2026-01-01\n", 1, "unknown tag !!timestamp"),
        ("a: !!set {x}\n", 1, "tag !!set is not allowed on a mapping"),
        ("a: !!omap [x: 1]\n", 1, "tag !!omap is not allowed on a list"),
        ("a: !!int abc\n", 1, "'abc' is not a valid int"),
        ("a: !!bool maybe\n", 1, "'maybe' is not a valid bool"),
        ("a:\n  b: !input\n", 2, "!input needs the name"),
        ("a:\n  ? [1, 2]\n  : x\n", 2, "a mapping key must be a plain value"),
        ("a:\n  !input x : 1\n", 2, "!input cannot be used as a key"),
        ("a: &x [1, *x]\n", 1, "refers to a node that contains it"),
        ("a: *nothing\n", 1, "undefined alias"),
        ("a: 1\n---\nb: 2\n", 2, "expected a single document"),
        ("a: 1\nb: \x07\n", 2, "character U+0007 is not allowed"),
        ("a: &a\n  b:\n    <<: *a\n", 3, "refers to a node that contains it"),
        ("a:\n  <<: 5\n", 2, "'<<' merges a mapping"),
    ],
)
def test_refused_documents(text: str, line: int, words: str) -> None:
    err = error_of(text)
    assert err.line == line, str(err)
    assert words in err.reason, str(err)


def test_billion_laughs_is_bounded() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
        previous = name
    err = error_of("\n".join(lines) + "\n")
    assert f"more than {MAX_NODES} values" in err.reason


def test_many_aliases_below_the_limit_load() -> None:
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [" + ", ".join(["*a"] * 1000) + "]\n"
    assert len(load_yaml(text, "x").data["b"]) == 1000


def test_deep_nesting_is_refused() -> None:
    err = error_of("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))
    assert f"nested more than {MAX_DEPTH} levels" in err.reason
    err = error_of("[" * 5000 + "]" * 5000)
    assert "nested" in err.reason


def test_error_dict_form() -> None:
    payload = error_of("a: 1\na: 2\n").to_dict()
    assert payload["code"] == "invalid-definition"
    assert payload["line"] == 2


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(categories=("L", "N", "P")), max_size=8), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(json_values)
def test_json_documents_load_as_json(value: Any) -> None:
    # JSON is YAML 1.2: every JSON document must read back as the same data
    for text in (json.dumps(value, ensure_ascii=False), json.dumps(value, indent=2)):
        assert load_yaml(text, "x.json").data == value


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_arbitrary_text_loads_or_fails_cleanly(text: str) -> None:
    try:
        load_yaml(text, "fuzz.yaml")
    except DefinitionError as err:
        assert err.source == "fuzz.yaml"
        assert err.reason


def test_escaped_surrogate_pairs_join_and_lone_halves_are_refused() -> None:
    assert load_yaml('a: "\\ud83d\\ude00 ok"\n', "x").data == {"a": "\U0001f600 ok"}
    err = error_of('a: "\\ud83d alone"\n')
    assert err.line == 1
    assert err.path == "a"
