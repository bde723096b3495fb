"""Needs behind the words: "好热", "暗い", "I'm heading home", "おやすみ".

An implicit request says how the person feels or what they are about to do; each need
has a code (``Understanding.why``) and the intents that meet it:

============  =====================================================================
``too_hot``   the room's AC (the room said, else ``here``): mode cool, 2 °C cooler;
              in the car: its climate on at 20 °C
``too_cold``  the AC: mode heat, 2 °C warmer; in the car: climate on at 24 °C
``too_humid`` the AC: mode dry (``stuffy`` likewise)
``too_dark``  the lights on and 30 % brighter
``too_bright`` the lights 30 % dimmer; ``glare`` (the sun): the curtains closed
``good_night`` every light off, every curtain closed, the door locks locked
``leaving``   every light off, the door locks locked, the vacuum started
``heading_home`` the living room's AC on in auto mode
``arrived_home`` the hallway and living-room lights on
``good_morning`` the bedroom curtains open, the bedroom light on at 40 %
============  =====================================================================

A need said negated ("not too hot", "不热", "暑くない") is not a need.
"""

from __future__ import annotations

import re
from typing import Final

from trilink.copilot.intent import Intent, Target
from trilink.copilot.wording import Reading

AC: Final = "air-conditioner"
_VERY: Final = r"too|so|really|very|way too|pretty|kinda|kind of|a bit|super|damn|bloody|quite|getting"

_NEEDS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (why, re.compile(pattern))
    for why, pattern in (
        (
            "good_night",
            r"\bgood ?night\b|\bnight,? night\b|\bnighty[- ]night\b"
            r"|\b(?:going|off|headed|heading|time) to (?:bed|sleep)\b"
            r"|\bbed ?time\b|\btime for bed\b|\bi'?m (?:going to|gonna) (?:bed|sleep)\b|\bturning in\b"
            r"|\bcalling it a night\b|\bhitting the (?:sack|hay)\b|\bsleep time\b|\bnight mode\b"
            r"|晚安|睡觉了|我要睡了|我去睡了|准备睡觉|该睡了|要睡觉了|上床睡|我睡了|睡啦|去睡觉|睡觉去"
            r"|おやすみ|お休み|寝るね|寝ます|もう寝る|寝よう|寝るわ|就寝|寝るよ|寝るから|寝る時間",
        ),
        (
            "good_morning",
            r"\bgood morning\b|^\s*morning\b|\bi'?m (?:up|awake)\b|\brise and shine\b|\btime to get up\b"
            r"|\bwakey\b|\bjust (?:got up|woke up)\b|^\s*wake up\b"
            r"|早上好|早安|早啊|我起床了|起床了|我醒了|起来了|早呀|该起床|起床啦"
            r"|おはよう|起きた|起きました|目が覚め|起きる時間|朝だよ",
        ),
        (
            "leaving",
            r"\bi'?m (?:leaving|heading out|off to work|going out|off|out of here|outta here|out)\b"
            r"|\bleaving (?:now|home|the house|for work)\b|\bheading out\b|\bsee (?:you|ya) later\b"
            r"|\boff to (?:work|school|the office)\b|\bgoing to work\b|\bbye\b"
            r"|\bwe'?re (?:leaving|off|heading out)\b"
            r"|我出门了|出门了|我走了|我去上班了|上班去了|我要出门|出去了|我先走了|要出门|出门啦|我出去了|拜拜|出发了|去上班"
            r"|行ってきます|いってきます|出かけ(?:ます|る|てくる|るね)|行ってくる|いってくる|出発|出てくる",
        ),
        (
            "heading_home",
            r"\b(?:heading|headed|on my way|coming|going|driving|walking) (?:back )?home\b"
            r"|\bon (?:my|the) way (?:back|home)\b|\bbe home (?:in|soon)\b|\balmost home\b"
            r"|\bleaving (?:work|the office)\b|\bwill be home\b|\bi'?ll be home\b|\bcoming back\b"
            r"|快到家|马上到家|回家的路上|回家路上|要回家了|准备回家|下班回家|在回家|往家赶|往家走|我回家了|回家啦|下班了|快回来了|马上回来|回家了"
            r"|今から帰る|今から帰ります|これから帰|帰るね|帰ります|もうすぐ(?:着|家|帰)|帰宅中|帰り道|帰る途中|向かってる|帰るよ|今帰って",
        ),
        (
            "arrived_home",
            r"\bi'?m (?:back )?home\b|\bi'?m back\b|\bhoney,? i'?m home\b|\bjust got (?:back|home|in)\b"
            r"|\bhome sweet home\b|\bwe'?re (?:back|home)\b"
            r"|我到家了|我回来了|到家了|回来啦|我回来啦|到家啦|进门了|回到家了"
            r"|ただいま|帰ったよ|着いたよ|帰ってきた|帰宅しました|帰りました|家に着いた",
        ),
        (
            "glare",
            r"\bsun(?:light)?(?:'s| is) (?:in my eyes|too strong|so strong|blinding|too bright)\b"
            r"|\bglare\b|\btoo sunny\b"
            r"|太晒|好晒|晒死|阳光太|阳光好刺眼|太阳太|刺眼的阳光|西晒|太阳好大|太阳晒"
            r"|日差しが(?:強|まぶし|眩し)|西日|日が差して",
        ),
        (
            "too_hot",
            rf"\b(?:{_VERY})\s+(?:hot|warm)\b"
            r"|\bit'?s (?:hot|boiling|roasting|sweltering|baking)\b"
            r"|\bi'?m (?:so |really |very )?(?:hot|sweating|boiling|roasting|melting|overheating)\b"
            r"|\b(?:boiling|roasting|sweltering|stifling)\b|\bhot in here\b|\bsweating\b"
            r"|\blike an oven\b|\bsauna\b"
            r"|好热|太热|热死|真热|有点热|热得|热爆|很热|这么热|热啊|闷热|热炸|热疯|蒸笼|桑拿|中暑|一身汗|汗流浃背|热热的|热了"
            r"|暑い|暑っ|暑すぎ|あつい|あっつ|暑くて|蒸し暑|汗だく|溶けそう|あちー|あちぃ",
        ),
        (
            "too_cold",
            rf"\b(?:{_VERY})\s+(?:cold|chilly|nippy)\b"
            r"|\bit'?s (?:cold|chilly|freezing|nippy|arctic)\b"
            r"|\bi'?m (?:so |really |very )?(?:cold|freezing|frozen|shivering)\b"
            r"|\bfreezing\b|\bchilly\b|\bshivering\b|\bicebox\b"
            r"|好冷|太冷|冷死|真冷|有点冷|冻死|冷得|好凉|冻僵|这么冷|很冷|冷啊|冷飕飕|冰窖|冻得|发抖|手脚冰凉|冷了"
            r"|寒い|寒っ|寒すぎ|さむい|冷える|凍え|寒くて|さみー|さむっ|冷え冷え",
        ),
        (
            "stuffy",
            r"\bstuffy\b|\bstale\b|\bno air\b|\bcan'?t breathe\b|\bairless\b"
            r"|闷|不透气|透不过气"
            r"|空気がこもって|息苦しい|空気が悪い|むわっと",
        ),
        (
            "too_humid",
            r"\bhumid\b|\bmuggy\b|\bdamp\b|\bsticky\b|\bclammy\b|\bmoist\b"
            r"|好潮|太潮|潮湿|湿气|黏糊糊|湿漉漉|回南天|好湿|湿度好高|湿度太高|湿乎乎|潮乎乎|太湿|黏黏的"
            r"|じめじめ|ジメジメ|湿気|むしむし|ムシムシ|湿っぽい|蒸す|湿度が高",
        ),
        (
            "too_bright",
            r"\b(?:too|so|really|very|way too)\s+bright\b|\bblinding\b|\bhurts my eyes\b"
            r"|太亮|好亮|刺眼|晃眼|太晃|亮瞎|亮得"
            r"|まぶしい|眩しい|明るすぎ|まぶし|眩し",
        ),
        (
            "too_dark",
            r"\b(?:too|so|really|very|pretty|kinda|a bit|way too)\s+dark\b|\bit'?s dark\b|\bcan'?t see\b"
            r"|\bdark in here\b|\bpitch black\b|\bneed (?:some |more )?light\b"
            r"|太暗|好暗|有点暗|暗死|看不清|看不见|黑乎乎|黑漆漆|一片黑|伸手不见五指|这么暗|真暗|光线不够|好黑|太黑|很暗|黑咕隆咚"
            r"|暗い|暗っ|暗すぎ|見えない|真っ暗|見にくい",
        ),
    )
)
_NOT_BEFORE: Final = re.compile(r"(?:\bnot\b|n't|\bno longer\b|\bisn'?t\b)\s+(?:\w+\s+)?$|[不没]\S{0,2}$")
_NOT_AFTER: Final = re.compile(r"^(?:くない|くなかった|くはない|ない)")


def understand(reading: Reading) -> tuple[str, list[Intent]] | None:
    """The need a request says, as ``(why, intents)``, or ``None``."""
    text = reading.named
    for why, pattern in _NEEDS:
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 16) : m.start()]
            after = text[m.end() : m.end() + 6]
            if _NOT_BEFORE.search(before) or _NOT_AFTER.search(after):
                continue
            intents = _meet(why, reading)
            if intents:
                return why, intents
    return None


def _room(reading: Reading, concept: str) -> str:
    return reading.tables.room_of_concept.get(concept, concept)


def _meet(why: str, reading: Reading) -> list[Intent]:
    rooms = tuple(dict.fromkeys(m.value for m in reading.marks if m.kind == "room")) or ("here",)
    in_car = any(m.kind == "kind" and m.value == "car" for m in reading.marks)
    ac = Target(rooms=rooms, kinds=(AC,))
    lights = Target(rooms=rooms, kinds=("light",))
    car = Target(kinds=("car",), feature="climate")
    if why == "too_hot":
        if in_car:
            return [Intent("turn_on", car, values={"temperature": 20})]
        return [
            Intent("set", ac, values={"mode": "cool"}),
            Intent("adjust", ac, deltas={"temperature": -2.0}),
        ]
    if why == "too_cold":
        if in_car:
            return [Intent("turn_on", car, values={"temperature": 24})]
        return [Intent("set", ac, values={"mode": "heat"}), Intent("adjust", ac, deltas={"temperature": 2.0})]
    if why in ("too_humid", "stuffy"):
        return [Intent("set", ac, values={"mode": "dry"})]
    if why == "too_dark":
        return [Intent("turn_on", lights), Intent("adjust", lights, deltas={"brightness": 30.0})]
    if why == "too_bright":
        return [Intent("adjust", lights, deltas={"brightness": -30.0})]
    if why == "glare":
        return [Intent("close", Target(rooms=rooms, kinds=("curtain",)))]
    if why == "good_night":
        return [
            Intent("turn_off", Target(kinds=("light",), everything=True)),
            Intent("close", Target(kinds=("curtain",), everything=True)),
            Intent("lock", Target(kinds=("lock",), everything=True)),
        ]
    if why == "leaving":
        return [
            Intent("turn_off", Target(kinds=("light",), everything=True)),
            Intent("lock", Target(kinds=("lock",), everything=True)),
            Intent("start", Target(kinds=("vacuum",))),
        ]
    if why == "heading_home":
        return [
            Intent(
                "set", Target(rooms=(_room(reading, "living-room"),), kinds=(AC,)), values={"mode": "auto"}
            )
        ]
    if why == "arrived_home":
        home_rooms = (_room(reading, "hallway"), _room(reading, "living-room"))
        return [Intent("turn_on", Target(rooms=home_rooms, kinds=("light",)))]
    if why == "good_morning":
        bedroom = _room(reading, "bedroom")
        return [
            Intent("open", Target(rooms=(bedroom,), kinds=("curtain",))),
            Intent("set", Target(rooms=(bedroom,), kinds=("light",)), values={"brightness": 40}),
        ]
    return []
