"""Replies in the request's language: what was done (or would be), why, and what went wrong.

Plain templates per language; device names are inserted as they are (data, quoted where
a sentence could be misread).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trilink.copilot.colors import color_label
from trilink.copilot.intent import Language
from trilink.copilot.plan import Fact, Plan, Step

_T: dict[str, dict[str, str]] = {
    "en": {
        "done": "Done: {x}.",
        "would": "Would do (dry run): {x}.",
        "confirm": "Please confirm ({why}): {x}.",
        "failed": "Could not {x}: {error}.",
        "sep": ", ",
        "not_understood": "Sorry, I didn't understand that.",
        "nothing_to_do": "There is nothing to do.",
        "turn_on": "turn on {d}",
        "turn_off": "turn off {d}",
        "set": "set {d} {k} to {v}",
        "open": "open {d}",
        "close": "close {d}",
        "lock": "lock {d}",
        "unlock": "unlock {d}",
        "start": "start {d}",
        "stop": "stop {d}",
        "pause": "pause {d}",
        "dock": "send {d} back to its dock",
        "scene": "activate the scene “{d}”",
        "start_charging": "start charging {d}",
        "stop_charging": "stop charging {d}",
        "automation": "Save this automation ({name})? It will {x}.",
        "unknown_value": "{d}: no reading yet",
        "temperature": "{d}: {v} °C",
        "humidity": "{d}: {v} % humidity",
        "locked_true": "{d} is locked",
        "locked_false": "{d} is unlocked",
        "on_true": "{d} is on",
        "on_false": "{d} is off",
        "on_list": "On now: {x}",
        "on_none": "Nothing is on",
        "battery": "{d} is at {v} %",
        "range": "{d} has {v} km of range",
        "reach_ok": "{d} can reach {dest} (about {road} km by road, {range} km of range)",
        "reach_no": "{d} cannot reach {dest} without charging (about {road} km by road, {range} km of range)",
        "position": "{d} is {v} % open",
        "status": "{d}: {v}",
        "where_home": "{d} is at home",
        "where_place": "{d} is at {place}",
        "where_away": "{d} is {km} km from home",
        "no_device": "I couldn't find “{x}”",
        "no_room": "I couldn't find a room called “{x}”",
        "no_floor": "I couldn't find a floor called “{x}”",
        "no_people": "Nobody here has a phone that says where they are",
        "no_speaker_room": "I don't know which room you are in",
        "ambiguous": "There are several ({x}); which one do you mean?",
        "nothing": "There is nothing there to control",
        "unsupported": "{d} can't do that ({x})",
        "invalid": "{d}: {x}",
        "no_mode": "{d} has no “{x}” mode",
        "no_scene": "There is no scene called “{x}”",
        "no_color": "“{x}” is not a colour a light can show",
        "no_actions": "I understood the trigger but not what to do",
        "no_place": "I don't know where “{x}” is",
        "because": "{why}, so: {x}",
    },
    "zh": {
        "done": "已完成：{x}。",
        "would": "将会（演练，未执行）：{x}。",
        "confirm": "需要你确认（{why}）：{x}。",
        "failed": "没能{x}：{error}。",
        "sep": "，",
        "not_understood": "抱歉，我没听懂。",
        "nothing_to_do": "没有需要做的事。",
        "turn_on": "打开{d}",
        "turn_off": "关闭{d}",
        "set": "把{d}的{k}调到{v}",
        "open": "打开{d}",
        "close": "关上{d}",
        "lock": "锁上{d}",
        "unlock": "解锁{d}",
        "start": "启动{d}",
        "stop": "停止{d}",
        "pause": "暂停{d}",
        "dock": "让{d}回充电座",
        "scene": "启用场景“{d}”",
        "start_charging": "开始给{d}充电",
        "stop_charging": "停止给{d}充电",
        "automation": "要保存这个自动化（{name}）吗？它会：{x}。",
        "unknown_value": "{d}：暂无数据",
        "temperature": "{d}：{v}°C",
        "humidity": "{d}：湿度{v}%",
        "locked_true": "{d}已上锁",
        "locked_false": "{d}没有上锁",
        "on_true": "{d}开着",
        "on_false": "{d}关着",
        "on_list": "现在开着的有：{x}",
        "on_none": "现在什么都没开",
        "battery": "{d}电量{v}%",
        "range": "{d}还能跑{v}公里",
        "reach_ok": "{d}可以到{dest}（路程约{road}公里，续航{range}公里）",
        "reach_no": "{d}不充电到不了{dest}（路程约{road}公里，续航只有{range}公里）",
        "position": "{d}开了{v}%",
        "status": "{d}：{v}",
        "where_home": "{d}在家",
        "where_place": "{d}在{place}",
        "where_away": "{d}离家{km}公里",
        "no_device": "没有找到“{x}”",
        "no_room": "没有找到叫“{x}”的房间",
        "no_floor": "没有找到叫“{x}”的楼层",
        "no_people": "家里没有人的手机能告诉我他们在哪里",
        "no_speaker_room": "我不知道你在哪个房间",
        "ambiguous": "有好几个（{x}），你指的是哪一个？",
        "nothing": "那里没有可以控制的设备",
        "unsupported": "{d}不支持这个操作（{x}）",
        "invalid": "{d}：数值无效（{x}）",
        "no_mode": "{d}没有“{x}”模式",
        "no_scene": "没有叫“{x}”的场景",
        "no_color": "“{x}”不是灯能显示的颜色",
        "no_actions": "我听懂了触发条件，但没听懂要做什么",
        "no_place": "我不知道“{x}”在哪里",
        "because": "{why}，所以：{x}",
    },
    "ja": {
        "done": "完了しました：{x}。",
        "would": "実行予定（ドライラン、未実行）：{x}。",
        "confirm": "確認してください（{why}）：{x}。",
        "failed": "{x}できませんでした：{error}。",
        "sep": "、",
        "not_understood": "すみません、よく分かりませんでした。",
        "nothing_to_do": "することはありません。",
        "turn_on": "{d}をオン",
        "turn_off": "{d}をオフ",
        "set": "{d}の{k}を{v}に設定",
        "open": "{d}を開ける",
        "close": "{d}を閉める",
        "lock": "{d}を施錠",
        "unlock": "{d}を解錠",
        "start": "{d}を開始",
        "stop": "{d}を停止",
        "pause": "{d}を一時停止",
        "dock": "{d}を充電台に戻す",
        "scene": "シーン「{d}」を適用",
        "start_charging": "{d}の充電を開始",
        "stop_charging": "{d}の充電を停止",
        "automation": "このオートメーション（{name}）を保存しますか？内容：{x}。",
        "unknown_value": "{d}：まだデータがありません",
        "temperature": "{d}：{v}°C",
        "humidity": "{d}：湿度{v}%",
        "locked_true": "{d}は施錠されています",
        "locked_false": "{d}は解錠されています",
        "on_true": "{d}はオンです",
        "on_false": "{d}はオフです",
        "on_list": "いまオンになっているもの：{x}",
        "on_none": "何もオンになっていません",
        "battery": "{d}のバッテリーは{v}%です",
        "range": "{d}の航続距離は{v}kmです",
        "reach_ok": "{d}は{dest}まで行けます（道のり約{road}km、航続距離{range}km）",
        "reach_no": "{d}は充電しないと{dest}まで行けません（道のり約{road}km、航続距離{range}km）",
        "position": "{d}は{v}%開いています",
        "status": "{d}：{v}",
        "where_home": "{d}は家にいます",
        "where_place": "{d}は{place}にいます",
        "where_away": "{d}は家から{km}kmのところにいます",
        "no_device": "「{x}」が見つかりません",
        "no_room": "「{x}」という部屋が見つかりません",
        "no_floor": "「{x}」という階が見つかりません",
        "no_people": "居場所が分かるスマートフォンを持っている人がいません",
        "no_speaker_room": "どの部屋にいるのか分かりません",
        "ambiguous": "複数あります（{x}）。どれですか？",
        "nothing": "そこには操作できる機器がありません",
        "unsupported": "{d}はその操作に対応していません（{x}）",
        "invalid": "{d}：値が無効です（{x}）",
        "no_mode": "{d}には「{x}」モードがありません",
        "no_scene": "「{x}」というシーンはありません",
        "no_color": "「{x}」はライトで表示できる色ではありません",
        "no_actions": "きっかけは分かりましたが、何をするかが分かりませんでした",
        "no_place": "「{x}」がどこか分かりません",
        "because": "{why}ので：{x}",
    },
}

_KEYS = {
    "brightness": {"en": "brightness", "zh": "亮度", "ja": "明るさ"},
    "color_temperature": {"en": "colour temperature", "zh": "色温", "ja": "色温度"},
    "color": {"en": "colour", "zh": "颜色", "ja": "色"},
    "position": {"en": "position", "zh": "开合度", "ja": "開き具合"},
    "temperature": {"en": "temperature", "zh": "温度", "ja": "温度"},
    "mode": {"en": "mode", "zh": "模式", "ja": "モード"},
    "fan_speed": {"en": "fan speed", "zh": "风速", "ja": "風量"},
    "charge_limit": {"en": "charge limit", "zh": "充电上限", "ja": "充電上限"},
}

_MODES = {
    "auto": {"en": "auto", "zh": "自动", "ja": "自動"},
    "cool": {"en": "cool", "zh": "制冷", "ja": "冷房"},
    "dry": {"en": "dry", "zh": "除湿", "ja": "除湿"},
    "fan": {"en": "fan only", "zh": "送风", "ja": "送風"},
    "heat": {"en": "heat", "zh": "制热", "ja": "暖房"},
}

_RISKS = {
    "unlock": {"en": "unlocking a door", "zh": "开门锁", "ja": "ドアの解錠"},
    "open_car": {"en": "unlocking the car", "zh": "解锁汽车", "ja": "車の解錠"},
    "open_garage": {"en": "opening the garage", "zh": "打开车库门", "ja": "ガレージを開ける"},
    "security_off": {"en": "turning off security", "zh": "关闭安防设备", "ja": "防犯機器をオフ"},
    "car_moving": {"en": "the car is moving", "zh": "车辆正在行驶", "ja": "車が走行中"},
    "every_device": {"en": "it affects every device", "zh": "涉及所有设备", "ja": "すべての機器が対象"},
    "new_automation": {"en": "a new automation", "zh": "新建自动化", "ja": "新しいオートメーション"},
}

_WHY = {
    "too_hot": {"en": "It's hot", "zh": "有点热", "ja": "暑い"},
    "too_cold": {"en": "It's cold", "zh": "有点冷", "ja": "寒い"},
    "too_dark": {"en": "It's dark", "zh": "太暗了", "ja": "暗い"},
    "too_bright": {"en": "It's too bright", "zh": "太亮了", "ja": "まぶしい"},
    "humid": {"en": "It's humid", "zh": "太潮了", "ja": "湿気が多い"},
    "stuffy": {"en": "It's stuffy", "zh": "有点闷", "ja": "空気がこもっている"},
    "heading_home": {"en": "You're on your way home", "zh": "你快到家了", "ja": "帰宅途中な"},
    "good_night": {"en": "Good night", "zh": "晚安", "ja": "おやすみなさい。寝る時間な"},
    "good_morning": {"en": "Good morning", "zh": "早上好", "ja": "おはようございます。朝な"},
    "leaving": {"en": "You're leaving", "zh": "你要出门了", "ja": "お出かけな"},
}


_ERRORS = {
    "device-offline": {"en": "the device is offline", "zh": "设备离线", "ja": "機器がオフラインです"},
    "timeout": {"en": "the device did not answer", "zh": "设备没有响应", "ja": "機器が応答しません"},
    "no-transport": {
        "en": "the device cannot be reached",
        "zh": "无法连接设备",
        "ja": "機器に接続できません",
    },
    "refused": {
        "en": "the device refused ({m})",
        "zh": "设备拒绝了（{m}）",
        "ja": "機器が拒否しました（{m}）",
    },
    "invalid": {
        "en": "the value is not allowed ({m})",
        "zh": "数值不允许（{m}）",
        "ja": "その値は使えません（{m}）",
    },
    "error": {"en": "something went wrong ({m})", "zh": "出错了（{m}）", "ja": "エラーが発生しました（{m}）"},
}


def error_text(error: str, language: Language) -> str:
    """A step's error (``code`` or ``code: detail`` from the service) in the request's language."""
    code, _, detail = error.partition(": ")
    templates = _ERRORS.get(code)
    if templates is None:
        return error
    return templates[_lang(language)].format(m=detail)


def _lang(language: str) -> str:
    return language if language in _T else "en"


def _fmt_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def step_phrase(step: Step, language: Language) -> str:
    """One step as a phrase ("turn on Bedroom Light")."""
    t = _T[_lang(language)]
    what = step.what
    op = str(what.get("op", "set"))
    d = str(what.get("device", step.did))
    if op == "set":
        key = str(what.get("key", ""))
        k = _KEYS.get(key, {}).get(_lang(language), key)
        value = what.get("value", step.value)
        if key == "mode" and value in _MODES:
            shown = _MODES[value][_lang(language)]
        elif key == "color":
            shown = color_label(value, language)
        else:
            shown = _fmt_value(value)
        unit = str(what.get("unit") or "")
        if unit:
            shown += (" " if language == "en" and unit == "°C" else "") + unit
        return t["set"].format(d=d, k=k, v=shown)
    return t.get(op, op + " {d}").format(d=d)


def fact_sentence(fact: Fact, language: Language) -> str:
    """One fact as a sentence fragment."""
    t = _T[_lang(language)]
    v = fact.value
    if v is None:
        return t["unknown_value"].format(d=fact.device)
    if fact.subject in ("locked", "on") and isinstance(v, bool):
        return t[f"{fact.subject}_{str(v).lower()}"].format(d=fact.device)
    if fact.subject == "reach" and isinstance(v, Mapping):
        key = "reach_ok" if v.get("ok") else "reach_no"
        return t[key].format(
            d=fact.device,
            dest=v.get("destination"),
            road=_fmt_value(v.get("road_km")),
            range=_fmt_value(v.get("range_km")),
        )
    if fact.subject == "where" and isinstance(v, Mapping):
        if v.get("place") == "home":
            return t["where_home"].format(d=fact.device)
        if v.get("place"):
            return t["where_place"].format(d=fact.device, place=v["place"])
        return t["where_away"].format(d=fact.device, km=_fmt_value(v.get("km_from_home")))
    template = t.get(fact.subject, "{d}: {v}")
    return template.format(d=fact.device, v=_fmt_value(v))


def _facts_text(facts: Sequence[Fact], language: Language) -> str:
    t = _T[_lang(language)]
    on = [f for f in facts if f.subject == "on" and f.did and f.value is True]
    others = [f for f in facts if not (f.subject == "on" and (f.value is True or not f.did))]
    parts: list[str] = []
    if any(f.subject == "on" and not f.did for f in facts):
        parts.append(t["on_none"])
    if on:
        parts.append(t["on_list"].format(x=t["sep"].join(f.device for f in on)))
    parts += [fact_sentence(f, language) for f in others]
    end = "." if _lang(language) == "en" else "。"
    return (end + " " if _lang(language) == "en" else end).join(parts) + end if parts else ""


def problem_sentence(code: str, detail: str, language: Language) -> str:
    """One problem as a sentence fragment."""
    t = _T[_lang(language)]
    device, _, rest = detail.partition("|")
    return t.get(code, "{x}").format(d=device, x=rest or device)


def risks_text(risks: Sequence[str], language: Language) -> str:
    """Why a confirmation is needed, as a short list."""
    lang = _lang(language)
    return _T[lang]["sep"].join(_RISKS.get(r, {}).get(lang, r) for r in risks)


def scene_phrase(name: str, language: Language) -> str:
    """A scene's activation as a phrase ("activate the scene “Movie time”")."""
    return _T[_lang(language)]["scene"].format(d=name)


def render(
    plan: Plan,
    *,
    mode: str,
    results: Sequence[tuple[Step, str | None]] = (),
    scene_results: Sequence[tuple[str, str | None]] = (),
) -> str:
    """The reply for a plan: ``mode`` is ``done``, ``would`` (dry run) or ``confirm``.

    ``results`` (after sending) pairs each step with its error, ``None`` if it worked;
    ``scene_results`` pairs each applied scene's id with its error.
    """
    lang = _lang(plan.language)
    t = _T[lang]
    end = "." if lang == "en" else "。"
    space = " " if lang == "en" else ""
    parts: list[str] = []
    facts = _facts_text(plan.facts, plan.language)
    if facts:
        parts.append(facts)
    if plan.automation is not None:
        actions = t["sep"].join(step_phrase(s, plan.language) for s in plan.automation_steps)
        parts.append(t["automation"].format(name=plan.automation.get("name", ""), x=actions))
    steps = list(plan.steps)

    def scene(sid: str) -> str:
        return scene_phrase(plan.scene_names.get(sid, sid), plan.language)

    if results or scene_results:
        ok = [step_phrase(s, plan.language) for s, err in results if err is None]
        ok += [scene(sid) for sid, err in scene_results if err is None]
        failed = [(step_phrase(s, plan.language), err) for s, err in results if err is not None]
        failed += [(scene(sid), err) for sid, err in scene_results if err is not None]
        if ok:
            text = t["sep"].join(ok)
            why = plan.understanding.why
            if why and why in _WHY:
                text = t["because"].format(why=_WHY[why][lang], x=text)
            parts.append(t["done"].format(x=text))
        for phrase, err in failed:
            parts.append(t["failed"].format(x=phrase, error=error_text(err or "", plan.language)))
    elif steps or plan.scenes:
        text = t["sep"].join([*(step_phrase(s, plan.language) for s in steps), *map(scene, plan.scenes)])
        why = plan.understanding.why
        if why and why in _WHY:
            text = t["because"].format(why=_WHY[why][lang], x=text)
        if mode == "confirm":
            parts.append(t["confirm"].format(why=risks_text(plan.risks, plan.language), x=text))
        elif mode == "would":
            parts.append(t["would"].format(x=text))
        else:
            parts.append(t["done"].format(x=text))
    for code, detail in plan.problems:
        parts.append(problem_sentence(code, detail, plan.language) + end)
    if not parts:
        parts.append(t["not_understood"] if not plan.understanding.understood else t["nothing_to_do"])
    return space.join(parts)
