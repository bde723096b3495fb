"""The grammar engine: Home Assistant's sentence templates, mapped to trilink's intents."""

from __future__ import annotations

import pytest

from trilink.copilot.grammar import MAX_CHARS, GrammarEngine, zh_grammar_order
from trilink.copilot.intent import INTENTS, KINDS, QUERY_SUBJECTS, VALUE_KEYS, Intent, Target, Understanding
from trilink.copilot.vocabulary import NamedDevice, NamedRoom, Vocabulary

ROOMS = (
    NamedRoom("living-room", "Living room", ("Lounge",)),
    NamedRoom("bedroom", "Bedroom", ()),
    NamedRoom("kitchen", "Kitchen", ()),
    NamedRoom("study", "Study", ("书房", "書房")),
)

AC = "air-conditioner"
LIGHTS = ("light",)

#: 20 devices, named in English with Chinese and Japanese aliases where people use them
DEVICES = (
    NamedDevice("light-living", "Ceiling Light", ("吸顶灯", "吸頂燈", "天井照明"), "living-room", "light"),
    NamedDevice("light-bedroom", "Bedside Lamp", ("床头灯", "床頭燈"), "bedroom", "light"),
    NamedDevice("light-kitchen", "Kitchen Light", (), "kitchen", "light"),
    NamedDevice("light-study", "Desk Lamp", ("台灯", "檯燈", "デスクライト"), "study", "light"),
    NamedDevice(
        "ac-living", "Living Room AC", ("空调", "空調", "エアコン"), "living-room", "air-conditioner"
    ),
    NamedDevice("ac-bedroom", "Bedroom AC", (), "bedroom", AC),
    NamedDevice("curtain-living", "Living Room Curtain", ("窗帘",), "living-room", "curtain"),
    NamedDevice("curtain-bedroom", "Bedroom Blind", (), "bedroom", "curtain"),
    NamedDevice("fan-living", "Ceiling Fan", ("吊扇",), "living-room", "fan"),
    NamedDevice("fan-study", "Desk Fan", (), "study", "fan"),
    NamedDevice("vacuum", "Rover", ("扫地机器人", "掃地機器人"), "living-room", "vacuum"),
    NamedDevice("lock-front", "Front Door", ("大门", "大門"), None, "lock"),
    NamedDevice("lock-back", "Back Door", (), "kitchen", "lock"),
    NamedDevice("plug-kitchen", "Kettle Plug", ("水壶插座",), "kitchen", "plug"),
    NamedDevice("plug-study", "Printer Plug", (), "study", "plug"),
    NamedDevice("sensor-living", "Living Room Sensor", (), "living-room", "sensor"),
    NamedDevice("sensor-bedroom", "Bedroom Sensor", (), "bedroom", "sensor"),
    NamedDevice("sensor-kitchen", "Kitchen Sensor", (), "kitchen", "sensor"),
    NamedDevice("car", "Car", (), None, "car"),
    NamedDevice("phone-alex", "Alex's Phone", (), None, "phone"),
)

VOCAB = Vocabulary(DEVICES, ROOMS)


@pytest.fixture(scope="module")
def engine() -> GrammarEngine:
    engine = GrammarEngine()
    engine.warm()
    return engine


def understood(engine: GrammarEngine, text: str, language: str) -> Intent:
    u = engine.understand(text, VOCAB, language)  # type: ignore[arg-type]
    assert u is not None, text
    assert u.source == "grammar" and u.language == language and len(u.intents) == 1
    return u.intents[0]


# (language, text) → (intent, target, values)
CASES: list[tuple[str, str, str, Target, dict[str, object]]] = [
    # English
    ("en", "turn on the ceiling light", "turn_on", Target(names=("Ceiling Light",)), {}),
    (
        "en",
        "turn off the lights in the kitchen",
        "turn_off",
        Target(rooms=("Kitchen",), kinds=("light",)),
        {},
    ),
    ("en", "lights on", "turn_on", Target(rooms=("here",), kinds=("light",)), {}),
    ("en", "turn off all lights", "turn_off", Target(kinds=("light",), everything=True), {}),
    (
        "en",
        "turn off all the lights in the house",
        "turn_off",
        Target(kinds=("light",), everything=True),
        {},
    ),
    ("en", "lock the front door", "lock", Target(names=("Front Door",)), {}),
    ("en", "unlock the back door", "unlock", Target(names=("Back Door",)), {}),
    ("en", "open the living room curtain", "open", Target(names=("Living Room Curtain",)), {}),
    ("en", "close the curtains", "close", Target(rooms=("here",), kinds=("curtain",)), {}),
    ("en", "turn on the kettle plug", "turn_on", Target(names=("Kettle Plug",)), {}),
    (
        "en",
        "set the bedroom brightness to 40%",
        "set",
        Target(rooms=("Bedroom",), kinds=("light",)),
        {"brightness": 40},
    ),
    ("en", "set the desk lamp brightness to max", "set", Target(names=("Desk Lamp",)), {"brightness": 100}),
    (
        "en",
        "set the desk lamp color temperature to 4000 Kelvin",
        "set",
        Target(names=("Desk Lamp",)),
        {"color_temperature": 4000},
    ),
    ("en", "set the desk lamp color to red", "set", Target(names=("Desk Lamp",)), {"color": "red"}),
    ("en", "make the lights red", "set", Target(rooms=("here",), kinds=("light",)), {"color": "red"}),
    (
        "en",
        "set temperature to 24 degrees",
        "set",
        Target(rooms=("here",), kinds=("air-conditioner",)),
        {"temperature": 24},
    ),
    ("en", "set the bedroom ac to 20.5 degrees", "set", Target(names=("Bedroom AC",)), {"temperature": 20.5}),
    (
        "en",
        "what is the temperature in the kitchen",
        "query",
        Target(rooms=("Kitchen",)),
        {"subject": "temperature"},
    ),
    ("en", "is the front door locked", "query", Target(names=("Front Door",)), {"subject": "locked"}),
    ("en", "is the desk lamp on", "query", Target(names=("Desk Lamp",)), {"subject": "state"}),
    ("en", "which lights are on", "query", Target(kinds=("light",), everything=True), {"subject": "on"}),
    ("en", "set the bedroom blind to 30%", "set", Target(names=("Bedroom Blind",)), {"position": 30}),
    ("en", "set ceiling fan speed to 60%", "set", Target(names=("Ceiling Fan",)), {"fan_speed": 60}),
    ("en", "set the desk lamp brightness to 0%", "turn_off", Target(names=("Desk Lamp",)), {}),
    ("en", "set ceiling fan speed to 0%", "turn_off", Target(names=("Ceiling Fan",)), {}),
    ("en", "start rover", "start", Target(names=("Rover",)), {}),
    ("en", "return rover to base", "dock", Target(names=("Rover",)), {}),
    # the lounge is the living room's alias; 客厅 and リビング its room words
    (
        "en",
        "turn on the lights in the lounge",
        "turn_on",
        Target(rooms=("Living room",), kinds=("light",)),
        {},
    ),
    # simplified Chinese
    ("zh", "打开客厅的灯", "turn_on", Target(rooms=("Living room",), kinds=("light",)), {}),
    ("zh", "把空调温度设置为20度", "set", Target(names=("空调",)), {"temperature": 20}),
    ("zh", "关掉所有的灯", "turn_off", Target(kinds=("light",), everything=True), {}),
    ("zh", "打开家里所有的灯", "turn_on", Target(kinds=("light",), everything=True), {}),
    ("zh", "打开这里的灯", "turn_on", Target(rooms=("here",), kinds=("light",)), {}),
    ("zh", "把窗帘调到40", "set", Target(names=("窗帘",)), {"position": 40}),  # an alias is a name
    ("zh", "把卧室窗帘调到40", "set", Target(rooms=("Bedroom",), kinds=("curtain",)), {"position": 40}),
    ("zh", "吸顶灯亮度调到50", "set", Target(names=("吸顶灯",)), {"brightness": 50}),
    (
        "zh",
        "把书房亮度设置为百分之八十",
        "set",
        Target(rooms=("Study",), kinds=("light",)),
        {"brightness": 80},
    ),
    ("zh", "让扫地机器人回充电座", "dock", Target(names=("扫地机器人",)), {}),
    ("zh", "锁上大门", "lock", Target(names=("大门",)), {}),
    ("zh", "把吊扇风速设置为50", "set", Target(names=("吊扇",)), {"fan_speed": 50}),
    ("zh", "客厅温度是多少", "query", Target(rooms=("Living room",)), {"subject": "temperature"}),
    # traditional Chinese (zh-TW), Cantonese (zh-HK)
    ("zh", "打開客廳的燈", "turn_on", Target(rooms=("Living room",), kinds=("light",)), {}),
    ("zh", "關閉吸頂燈", "turn_off", Target(names=("吸頂燈",)), {}),
    ("zh", "鎖上大門", "lock", Target(names=("大門",)), {}),
    ("zh", "開啟大門", "unlock", Target(names=("大門",)), {}),  # opening a lock unlocks it
    ("zh", "將檯燈亮度調到30", "set", Target(names=("檯燈",)), {"brightness": 30}),
    ("zh", "關閉客廳嘅燈", "turn_off", Target(rooms=("Living room",), kinds=("light",)), {}),
    # Japanese
    ("ja", "リビングのライトを点けて", "turn_on", Target(rooms=("Living room",), kinds=("light",)), {}),
    ("ja", "天井照明を点けて", "turn_on", Target(names=("天井照明",)), {}),
    ("ja", "全てのライトを消して", "turn_off", Target(kinds=("light",), everything=True), {}),
    ("ja", "デスクライトの明るさを50%に設定して", "set", Target(names=("デスクライト",)), {"brightness": 50}),
]


@pytest.mark.parametrize(("language", "text", "name", "target", "values"), CASES)
def test_understands_explicit_commands(
    engine: GrammarEngine, language: str, text: str, name: str, target: Target, values: dict[str, object]
) -> None:
    intent = understood(engine, text, language)
    assert (intent.name, intent.target, intent.values) == (name, target, values)


def test_output_uses_the_closed_vocabulary(engine: GrammarEngine) -> None:
    for language, text, *_ in CASES:
        intent = understood(engine, text, language)
        assert intent.name in INTENTS
        assert set(intent.target.kinds) <= KINDS
        assert set(intent.values) <= set(VALUE_KEYS)
        if intent.name == "query":
            assert intent.values["subject"] in QUERY_SUBJECTS


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "set a timer for five minutes"),  # not an intent trilink carries out
        ("en", "what time is it"),
        ("en", "turn on the toaster"),  # no such device
        ("en", "it's too hot in here"),  # implicit: for the rules, not the grammar
        ("zh", "今天天气怎么样"),
        ("zh", "把客厅的灯调成红色"),  # no zh-CN template says it so: the rules read it
        ("ja", "今何時ですか"),
    ],
)
def test_out_of_scope_is_none(engine: GrammarEngine, language: str, text: str) -> None:
    assert engine.understand(text, VOCAB, language) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \t\n  ",
        "x" * 10_000,
        "turn on the light " * 600,
        "💡🔥🏠" * 50,
        "\x00\x01\x02\x1b[31m\x7f",
        "turn on the \x00ceiling\x07 light",
        "打开\u200b客厅的灯\ufeff",
        "{name} <the> [area] (on|off) |",
        "\ud800 lone surrogate",
        "؟!،" * 30,
    ],
)
@pytest.mark.parametrize("language", ["en", "zh", "ja"])
def test_malformed_input_never_raises(engine: GrammarEngine, text: str, language: str) -> None:
    u = engine.understand(text, VOCAB, language)  # type: ignore[arg-type]
    assert u is None or isinstance(u, Understanding)


def test_long_input_is_not_matched(engine: GrammarEngine) -> None:
    text = "turn on the ceiling light " + " " * 10 + "please " * (MAX_CHARS // 7)
    assert engine.understand(text, VOCAB, "en") is None
    # control characters and extra spaces are cleaned before matching
    intent = understood(engine, "  turn on\tthe \x00ceiling light\n", "en")
    assert intent.target.names == ("Ceiling Light",)


def test_chinese_grammar_order_follows_the_script() -> None:
    assert zh_grammar_order("打开客厅的灯") == ("zh-CN", "zh-TW", "zh-HK")
    assert zh_grammar_order("打開客廳的燈") == ("zh-TW", "zh-HK", "zh-CN")
    assert zh_grammar_order("關閉客廳嘅燈") == ("zh-HK", "zh-TW", "zh-CN")


def test_nothing_is_loaded_eagerly_and_grammars_are_cached() -> None:
    engine = GrammarEngine()
    assert engine._grammars == {}
    first = engine.grammar("en")
    assert first is not None and engine.grammar("en") is first
    assert set(first.intents) == {
        "HassTurnOn",
        "HassTurnOff",
        "HassLightSet",
        "HassClimateSetTemperature",
        "HassClimateGetTemperature",
        "HassGetState",
        "HassSetPosition",
        "HassFanSetSpeed",
        "HassVacuumStart",
        "HassVacuumReturnToBase",
    }
    assert engine.grammar("xx") is None
    assert set(engine._grammars) == {"en", "xx"}


def test_slot_lists_are_compiled_once_per_vocabulary(engine: GrammarEngine) -> None:
    assert engine._slot_values(VOCAB) is engine._slot_values(VOCAB)
    other = Vocabulary(DEVICES[:3], ROOMS)
    assert engine._slot_values(other) is not engine._slot_values(VOCAB)
    assert understood(engine, "turn on the kitchen light", "en").target.names == ("Kitchen Light",)
    assert engine.understand("turn on the desk lamp", other, "en") is None  # not in that home


def test_names_are_data_not_templates(engine: GrammarEngine) -> None:
    odd = Vocabulary((NamedDevice("odd", "Lamp (2) [x]", (), "kitchen", "light"),), ROOMS)
    assert engine.understand("turn on lamp (2) [x]", odd, "en") is not None
    assert engine.understand("turn on lamp 2", odd, "en") is None


def test_a_matcher_failure_is_not_understood(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = GrammarEngine()

    def broken(*args: object) -> None:
        raise RuntimeError("matcher bug")

    monkeypatch.setattr(engine, "recognize", broken)
    assert engine.understand("turn on the ceiling light", VOCAB, "en") is None
