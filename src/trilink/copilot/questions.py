"""Questions: "is the front door locked?", "卧室现在多少度", "車はあと何キロ走れる？".

A clause is a question when it is asked (a question mark, a question word or particle)
and says what it asks about — a subject of ``intent.QUERY_SUBJECTS`` — and asks for
nothing to be done ("could you set it to 24?" is a command). Each subject found gives
one ``query`` intent; a clause that names no device takes the one before it ("… and will
it reach the office?" asks about the car), else the subject's usual device (the car for
its battery, range and reach; the locks for "locked").
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from trilink.copilot import lexicon as lx
from trilink.copilot.clauses import Clause, Said, anchored
from trilink.copilot.intent import Intent, Target
from trilink.copilot.wording import MASK, Reading, normalise

_ASKED: Final = re.compile(
    r"^\s*(?:what|what's|whats|how|is|are|does|do|did|can|could|will|would|where|which|who|has|have)\b"
    r"|\b(?:tell me|check|show me|any idea)\b|[?？]"
    r"|[吗么嘛呢]|多少|多远|多久|多长|几|哪|什么|啥|怎么|是否|是不是|有没有|没有?$|(.)[没不]\1"
    r"|か$|かな$|の$|っけ|何|どこ|どう|いくつ|どれ|どのくらい|どれくらい|は$|教えて"
)

#: subject → pattern (in order of precedence: the first subjects take their words first)
_SUBJECTS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (subject, re.compile(pattern))
    for subject, pattern in (
        (
            "reach",
            r"\b(?:reach|make it to|get (?:me |us )?to|drive to|go to)\s+(?P<en>[^?.,!]+?)\s*"
            r"(?:\?|$|\band\b|\bwithout\b|\bon (?:the|one|a|this)\b|\bwith\b|\bif\b)"
            r"|(?:能|可以|够|够不够|能不能|可不可以|还能|够开)(?:开|跑|去|到|撑)*(?:到|去)(?P<zh>[^吗么？?，,。呢不]+?)"
            r"(?:吗|么|嘛|呢|不|\?|？|$)"
            r"|(?P<ja>[^\s、。？?はがをでに]+?)まで(?:行ける|行けます|いける|走れる|もつ|持つ|届く|たどり着け|行けそう)",
        ),
        (
            "range",
            r"\brange\b|\bhow far\b|\bhow many (?:km|kilometers|kilometres|miles)\b"
            r"|\bmiles left\b|\bkm left\b"
            r"|多远|续航|还能(?:跑|开|走)(?:多少|几)|能跑多少|能开多少|里程"
            r"|航続|何キロ|どのくらい走れ|どれくらい走れ|どこまで走れ|あと何",
        ),
        (
            "battery",
            r"\bbattery\b|\bcharged?\b|\bjuice\b|\bstate of charge\b|\bpercent(?:age)?\b"
            r"|电量|多少电|电池|剩多少电|还有电|没电|充满了?吗|充好了?吗"
            r"|バッテリー|充電(?:は|って|残量|でき|終わ)|充電[^、。]{0,6}(?:どれくらい|どのくらい|何|いくつ)|残量|電池",
        ),
        (
            "locked",
            r"\b(?:locked|unlocked)\b|\bdid (?:i|you|we|someone|anyone) lock\b"
            r"|锁(?:好|上|住)?了?(?:吗|没有?|么)|锁没锁|有没有锁|是否锁|是不是锁|锁着(?:吗|没|呢)|关好了?(?:吗|没)"
            r"|(?:鍵|カギ|かぎ|ロック|施錠)[^?？]*(?:かかって|掛かって|閉まって|されて|して)(?:る|い|ます)"
            r"|(?:鍵|カギ|かぎ)(?:は|って)?(?:閉めた|かけた|掛けた)"
            r"|施錠(?:した|して|され)",
        ),
        (
            "on",
            r"\bwhat(?:'s| is| are|s)?\b(?:\s+[^\s\ue000]+){0,3}?\s+(?:still\s+)?(?:on|running)\b"
            r"(?!\s+(?:the|my|a)\b)"
            r"|\bwhich\b.*\b(?:on|running)\b|\banything\b.*\b(?:on|running)\b|\bdid i leave\b.*\bon\b"
            r"|哪些.*开着|什么.*开着|开着什么|有什么.*(?:开着|没关)|有没有.*没关|哪.*没关|啥.*开着"
            r"|何が(?:つい|点い|動い)て|つけっぱなし|付けっぱなし|つけっ放し|どれが(?:つい|点い)て",
        ),
        (
            "where",
            r"\bwhere\b|\bis \S+ (?:home|back)(?: yet)?\b|\bhas \S+ (?:got|gotten|come) (?:home|back)\b"
            r"|在哪|哪里|哪儿|在什么地方|到家了?(?:吗|没)|回来了?(?:吗|没)|在家(?:吗|没|不)"
            r"|どこ|(?:家に)?(?:いる|帰って(?:る|き(?:た|てる)))(?:\?|？|か|の|$)",
        ),
        ("humidity", r"\bhumid(?:ity)?\b|湿度|潮不潮|湿不湿"),
        (
            "temperature",
            r"\btemp(?:erature)?\b|\bhow (?:hot|warm|cold|cool)\b|\bdegrees\b|\bhot in\b|\bcold in\b"
            r"|多少度|几度|温度|热不热|冷不冷|多热|多冷|气温"
            r"|何度|温度|室温|気温|暑い|寒い",
        ),
        (
            "position",
            r"\bhow (?:open|closed|far open)\b|开了多少|开到多少|开合度|开了几成|开着多少"
            r"|どのくらい開い|どれくらい開い|開き具合",
        ),
        (
            "state",
            r"^\s*(?:is|are)\b.*\b(?:on|off|open|closed|shut|running|charging|cleaning|doing|working)\b"
            r"|\bwhat(?:'s| is)\b.*\bdoing\b|\bstatus\b|\bstill (?:on|running)\b"
            r"|\bdid (?:you|i|we|someone|anyone) (?:turn|switch|shut)\b.*\b(?:on|off)\b"
            r"|(?:开|关|亮)着(?:吗|没|呢|的吗)|(?:开|关)了(?:吗|没)|关没关|开没开|在(?:干|做)(?:嘛|什么)|状态|还开着|还在(?:扫|充|工作)"
            r"|(?:つい|点い|消え|開い|閉まっ|動い)て(?:る|います|いる)|状態",
        ),
    )
)
#: words of a request, not a question ("could you set it to 24?")
_COMMAND: Final = re.compile(
    r"\b(?:set|make|change|adjust|put|turn|switch)\b|帮我|给我|把|调到|调成|設定して|にして"
)
#: a destination's own words: "the office", "公司"
_DEST_TRIM: Final = re.compile(r"^(?:the|my|our)\s+|\s+(?:today|now|tonight)$|^(?:我的|我们的)")
_PLACE_WORDS: Final = {normalise(w): p for p, words in lx.PLACE_WORDS.items() for w in lx.all_words(words)}


def understand(reading: Reading, clause: Clause, said: Said, previous: Target | None) -> list[Intent]:
    """The ``query`` intents of a clause, or ``[]`` when it is not a question."""
    text = reading.named[clause.start : clause.end]
    if not (clause.asked or _ASKED.search(text.strip())):
        return []
    found: list[tuple[int, str, re.Match[str]]] = []
    taken = list(text)
    for subject, pattern in _SUBJECTS:
        m = pattern.search("".join(taken))
        if m is None:
            continue
        found.append((m.start(), subject, m))
        for i in range(m.start(), m.end()):
            taken[i] = MASK
    if not found:
        return []
    spans = [(clause.start + m.start(), clause.start + m.end()) for _, _, m in found]
    for mark in clause.marks:
        inside = any(lo <= mark.start and mark.end <= hi for lo, hi in spans)
        if inside:
            continue
        if mark.kind in ("verb", "mode", "level", "color") or (
            mark.kind == "number" and anchored(reading, mark)
        ):
            return []  # it asks for something to be done
    if _COMMAND.search("".join(taken)):
        return []
    found.sort(key=lambda f: f[0])
    subjects = [s for _, s, _ in found]
    if "state" in subjects and len(subjects) > 1:
        subjects.remove("state")
    if "temperature" in subjects and subjects != ["temperature"] and _feeling_word(found):
        subjects.remove("temperature")
    out = []
    for _, subject, m in found:
        if subject not in subjects:
            continue
        out.append(_intent(reading, subject, m, said, previous))
    return [i for i in out if i is not None]


def _feeling_word(found: list[tuple[int, str, re.Match[str]]]) -> bool:
    return any(s == "temperature" and m.group(0) in ("暑い", "寒い") for _, s, m in found)


def _intent(
    reading: Reading, subject: str, m: re.Match[str], said: Said, previous: Target | None
) -> Intent | None:
    target = said.target() if said.has_target else None
    if (
        target is not None
        and target.everything
        and not (target.kinds or target.rooms or target.floors or target.names)
    ):
        target = None if subject != "on" else target
    values: dict[str, str] = {"subject": subject}
    if subject == "reach":
        dest = next((g for g in (m.group("en"), m.group("zh"), m.group("ja")) if g), "")
        values["destination"] = _destination(reading, dest)
        target = _car(target, previous)
    elif subject in ("range",) or subject == "battery":
        target = _car(target, previous)
    elif subject == "where":
        if target is None:
            return None
        if not target.names and not target.kinds:
            return None
    elif subject == "locked":
        if target is None or not (target.kinds or target.names):
            target = replace(target or Target(), kinds=("lock",))
    elif subject == "position":
        if target is None or not (target.kinds or target.names):
            target = replace(target or Target(), kinds=("curtain",))
    elif subject == "state":
        if target is None:
            target = previous
        if target is None:
            return None
    elif subject == "on":
        target = target or Target(everything=True)
    if target is None:
        target = Target()
    return Intent("query", target, values=values)


def _car(target: Target | None, previous: Target | None) -> Target:
    """The car (or the device named: "my phone's battery"), without rooms ("the office" is a place)."""
    if target is not None and (target.kinds or target.names):
        return Target(names=target.names, kinds=target.kinds)
    if previous is not None and ("car" in previous.kinds or previous.names):
        return Target(names=previous.names, kinds=previous.kinds)
    return Target(kinds=("car",))


def _destination(reading: Reading, said: str) -> str:
    """The zone a destination names, else the words as said (trimmed)."""
    words = _DEST_TRIM.sub("", said.replace(MASK, "").strip()).strip()
    zones = reading.tables.vocabulary.zones
    folded = {normalise(z): z for z in zones}
    if normalise(words) in folded:
        return folded[normalise(words)]
    place = _PLACE_WORDS.get(normalise(words))
    if place is not None:
        for z in zones:
            zp = _PLACE_WORDS.get(normalise(z))
            if zp == place or normalise(z) == place:
                return z
    return words
