"""The copilot's words for things, in Chinese, English and Japanese, as data.

Everything here is a plain table; the understanding engines compile it into patterns.

Room words
----------
:data:`ROOM_WORDS` maps a canonical *room concept* to the words for it in each
language::

    ROOM_WORDS["living-room"] == {"en": ("living room", "lounge", …),
                                  "zh": ("客厅", …), "ja": ("リビング", "居間", …)}

Concepts are lower-case English ids with hyphens — ``living-room``, ``bedroom``,
``kitchen``, ``hallway``, ``study``, ``bathroom``, ``dining-room``, ``kids-room``,
``guest-room``, ``garage``, ``balcony``, ``laundry`` — the same form rooms of the
simulated home use as their ids.

* :func:`room_words` gives ``{concept: words}`` for one language;
* :func:`room_concept` maps any room word, name or id to its concept —
  ``"客厅"``, ``"リビング"``, ``"Living room"``, ``"living-room"`` and
  ``"living_room"`` all give ``"living-room"``; ``None`` for words it does not know.
  It has the shape of the planner's ``concept_of``: a room named "Living room" (or
  with the id ``living-room``) is found when someone says 客厅, by comparing the
  concept of what was said with the concept of each room's id, name and aliases.

Other tables
------------
:data:`KIND_WORDS` (device kinds of :data:`trilink.copilot.intent.KINDS`),
:data:`MODE_WORDS` (air-conditioner modes), :data:`HERE_WORDS`, :data:`ALL_WORDS`,
:data:`HOME_WORDS`, :data:`LEVEL_WORDS` and :data:`PLACE_WORDS` are plain words.
:data:`VERB_PATTERNS` holds the verbs (on, off, open, close, lock, unlock, clean, start,
stop, pause, dock, up, down) as regular-expression fragments, because verbs bend ("turn
the light off", "把灯关掉", "消して"); they are matched against lower-cased text, the lock
verbs (:data:`EARLY_VERBS`) before device kinds because kind words sit inside them
("把门锁上", "鍵をかけて"). :data:`FEATURE_WORDS` pick a part of a device (the car's
charging — "charge", "充电", "充電" — and its climate); :data:`PROTECTED_WORDS` are words
whose characters are verbs elsewhere ("开关" is a switch, "离开" is leaving).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from trilink.copilot.intent import Language

LANGUAGES: Final[tuple[Language, ...]] = ("en", "zh", "ja")

Words = Mapping[Language, tuple[str, ...]]

#: canonical room concept → words for it in each language
ROOM_WORDS: Final[dict[str, Words]] = {
    "living-room": {
        "en": ("living room", "livingroom", "lounge", "family room", "sitting room", "front room"),
        "zh": ("客厅", "起居室", "大厅", "客廳"),
        "ja": ("リビングルーム", "リビング", "居間", "茶の間"),
    },
    "bedroom": {
        "en": ("master bedroom", "bedroom"),
        "zh": ("主卧室", "主卧", "卧室", "睡房", "卧房", "臥室"),
        "ja": ("ベッドルーム", "寝室", "寝床"),
    },
    "kitchen": {
        "en": ("kitchen",),
        "zh": ("厨房", "廚房"),
        "ja": ("キッチン", "台所"),
    },
    "hallway": {
        "en": ("hallway", "entryway", "entrance hall", "entrance", "corridor", "foyer", "hall"),
        "zh": ("走廊", "玄关", "过道", "门厅", "走道", "玄關"),
        "ja": ("玄関", "廊下", "エントランス"),
    },
    "study": {
        "en": ("home office", "study", "office"),
        "zh": ("书房", "工作室", "書房"),
        "ja": ("書斎", "仕事部屋", "勉強部屋"),
    },
    "bathroom": {
        "en": ("bathroom", "restroom", "washroom", "toilet"),
        "zh": ("浴室", "卫生间", "洗手间", "厕所", "衛生間"),
        "ja": ("お風呂場", "風呂場", "お風呂", "浴室", "トイレ", "洗面所"),
    },
    "dining-room": {
        "en": ("dining room",),
        "zh": ("餐厅", "饭厅", "餐廳"),
        "ja": ("ダイニング", "食堂"),
    },
    "kids-room": {
        "en": ("kids room", "kids' room", "kid's room", "children's room", "nursery"),
        "zh": ("儿童房", "小孩房", "兒童房"),
        "ja": ("子供部屋", "子ども部屋"),
    },
    "guest-room": {
        "en": ("guest room", "spare room"),
        "zh": ("客房", "次卧"),
        "ja": ("客間", "客室"),
    },
    "garage": {
        "en": ("garage",),
        "zh": ("车库", "車庫"),
        "ja": ("ガレージ", "車庫"),
    },
    "balcony": {
        "en": ("balcony", "terrace", "patio"),
        "zh": ("阳台", "露台", "陽台"),
        "ja": ("ベランダ", "バルコニー", "テラス"),
    },
    "laundry": {
        "en": ("laundry room", "laundry", "utility room"),
        "zh": ("洗衣房",),
        "ja": ("ランドリー", "脱衣所"),
    },
}

#: device kind → words for it (longest match wins; see ``intent.KINDS``)
KIND_WORDS: Final[dict[str, Words]] = {
    "light": {
        "en": ("lights", "light", "lamps", "lamp", "lighting", "bulbs", "bulb", "ceiling light"),
        "zh": ("灯光", "电灯", "台灯", "吊灯", "大灯", "顶灯", "灯泡", "照明", "灯", "燈"),
        "ja": ("ライト", "電気", "でんき", "照明", "明かり", "灯り", "電灯", "ランプ", "シーリングライト"),
    },
    "air-conditioner": {
        "en": (
            "air conditioner",
            "air conditioning",
            "air-conditioner",
            "air-conditioning",
            "air con",
            "aircon",
            "a/c",
            "ac",
            "heat pump",
        ),
        "zh": ("空调", "冷气", "空調", "冷氣"),
        "ja": ("エアコン", "クーラー", "冷暖房"),
    },
    "curtain": {
        "en": ("curtains", "curtain", "blinds", "blind", "shades", "shade", "drapes", "garage door"),
        "zh": ("窗帘", "帘子", "百叶窗", "纱帘", "遮光帘", "卷帘", "窗簾", "车库门"),
        "ja": ("カーテン", "ブラインド", "シャッター", "ガレージのドア"),
    },
    "lock": {
        "en": ("front door", "back door", "door lock", "smart lock", "deadbolt", "doors", "door"),
        "zh": ("门锁", "大门", "前门", "房门", "家门", "智能锁", "门", "門"),
        "ja": ("玄関のドア", "ドア", "鍵", "カギ", "かぎ", "錠", "スマートロック"),
    },
    "vacuum": {
        "en": ("robot vacuum", "vacuum cleaner", "robovac", "roomba", "vacuum", "hoover"),
        "zh": ("扫地机器人", "扫地机", "扫拖机器人", "扫地的", "吸尘器", "掃地機"),
        "ja": ("ロボット掃除機", "お掃除ロボット", "掃除ロボット", "掃除機", "ルンバ"),
    },
    "plug": {
        "en": ("smart plug", "power strip", "outlet", "socket", "plug"),
        "zh": ("智能插座", "插座", "插头", "排插", "开关"),
        "ja": ("スマートプラグ", "コンセント", "電源タップ", "プラグ"),
    },
    "fan": {
        "en": ("ceiling fan", "fan"),
        "zh": ("电风扇", "风扇", "电扇", "吊扇"),
        "ja": ("サーキュレーター", "扇風機"),
    },
    "sensor": {
        "en": ("thermometer", "sensor", "hygrometer"),
        "zh": ("温湿度计", "温度计", "传感器", "湿度计"),
        "ja": ("温湿度計", "温度計", "センサー", "湿度計"),
    },
    "car": {
        "en": ("car doors", "car door", "the car", "my car", "car", "vehicle", "ev"),
        "zh": ("汽车", "车子", "爱车", "电车", "车门", "车锁", "车", "車"),
        "ja": ("車のドア", "車のカギ", "車の鍵", "自動車", "マイカー", "クルマ", "くるま", "車"),
    },
    "phone": {
        "en": ("phone", "mobile", "cellphone", "cell phone", "smartphone"),
        "zh": ("手机", "手機"),
        "ja": ("スマートフォン", "スマホ", "携帯", "ケータイ"),
    },
}

#: air-conditioner mode → words that name it (for ``values["mode"]``)
MODE_WORDS: Final[dict[str, Words]] = {
    "cool": {
        "en": ("cool mode", "cooling mode", "cooling"),
        "zh": ("制冷模式", "制冷", "冷风", "降温模式"),
        "ja": ("冷房モード", "冷房", "クール"),
    },
    "heat": {
        "en": ("heat mode", "heating mode", "heating", "the heat", "heater"),
        "zh": ("制热模式", "制热", "暖风", "制暖", "热风", "暖气", "制熱"),
        "ja": ("暖房モード", "暖房", "ヒーター"),
    },
    "dry": {
        "en": ("dry mode", "dehumidify mode", "dehumidifying", "dehumidify", "dehumidifier"),
        "zh": ("除湿模式", "除湿", "抽湿", "干燥模式", "除濕"),
        "ja": ("除湿モード", "除湿", "ドライモード", "ドライ"),
    },
    "fan": {
        "en": ("fan mode", "fan only", "fan-only"),
        "zh": ("送风模式", "送风", "通风模式", "送風"),
        "ja": ("送風モード", "送風"),
    },
    "auto": {
        "en": ("auto mode", "automatic mode"),
        "zh": ("自动模式", "智能模式", "自動模式"),
        "ja": ("自動モード", "オートモード", "自動運転"),
    },
}

#: words for the speaker's room
HERE_WORDS: Final[Words] = {
    "en": ("in here", "this room", "here"),
    "zh": ("这个房间", "这屋", "屋里", "房间里", "这里", "这儿", "这边", "屋子里", "這裡", "這邊"),
    "ja": ("この部屋", "ここ", "部屋"),
}

#: words that make a target every matching device ("all the lights")
ALL_WORDS: Final[Words] = {
    "en": ("everything", "all", "every", "each"),
    "zh": ("所有", "全部", "全都", "统统", "一切", "都"),
    "ja": ("全部の", "全部", "すべて", "全て", "みんな"),
}

#: words for the whole home ("every light in the house")
HOME_WORDS: Final[Words] = {
    "en": ("the whole house", "the house", "the whole home", "the apartment", "the flat"),
    "zh": ("全屋", "整个家", "家里", "家中", "屋子"),
    "ja": ("家中", "家じゅう", "家の中", "うち中"),
}

#: words for a level, as a percentage (fan speed, brightness)
LEVEL_WORDS: Final[dict[str, float]] = {
    "max": 100,
    "maximum": 100,
    "full": 100,
    "highest": 100,
    "high": 100,
    "medium": 50,
    "mid": 50,
    "low": 20,
    "lowest": 1,
    "minimum": 1,
    "最大": 100,
    "最高": 100,
    "最强": 100,
    "最亮": 100,
    "强": 100,
    "高档": 100,
    "高速": 100,
    "中档": 50,
    "中速": 50,
    "低档": 20,
    "低速": 20,
    "弱": 20,
    "最小": 1,
    "最低": 1,
    "最弱": 1,
    "最暗": 1,
    "最強": 100,
    "強": 100,
    "中": 50,
    "MAX": 100,
}

#: a place concept → words for it (a ``reach`` destination is matched to a zone by these)
PLACE_WORDS: Final[dict[str, Words]] = {
    "work": {
        "en": ("the office", "office", "work"),
        "zh": ("公司", "单位", "办公室", "上班的地方"),
        "ja": ("会社", "職場", "オフィス"),
    },
    "school": {"en": ("school",), "zh": ("学校",), "ja": ("学校",)},
    "airport": {"en": ("the airport", "airport"), "zh": ("机场",), "ja": ("空港",)},
    "home": {"en": ("home",), "zh": ("家",), "ja": ("家", "自宅")},
}

#: verb → regular-expression fragments per language (matched on lower-cased text, in order).
#: ``up``/``down`` change a value (which one follows from the device); ``up:brightness``,
#: ``down:temperature``… say which; ``up:size``/``down:size`` ("开大一点", "強く") are a fan's
#: speed or a light's brightness.
VERB_PATTERNS: Final[dict[str, Words]] = {
    "unlock": {
        "en": (r"\bunlock\b", r"\blet (?:me|us|them) in\b"),
        "zh": (r"开锁", r"解锁", r"打开门锁", r"开一下门锁", r"把锁打开", r"开门锁"),
        "ja": (
            r"鍵を?開け",
            r"鍵を?あけ",
            r"カギを?開け",
            r"解錠",
            r"開錠",
            r"ロックを?解除",
            r"ロックを?外",
        ),
    },
    "lock": {
        "en": (r"(?<!door )(?<!smart )\block\b(?!\s+state)", r"\bsecure\b"),
        "zh": (r"上锁", r"锁上", r"锁好", r"锁起来", r"锁住", r"反锁", r"锁(?=门|车|一下|了|吧|$)"),
        "ja": (
            r"鍵を?(?:かけ|掛け|閉め|しめ)",
            r"カギを?(?:かけ|掛け|閉め)",
            r"施錠",
            r"ロックを?(?:かけ|掛け)",
            r"ロックし",
            r"戸締まり",
            r"戸締り",
        ),
    },
    "dock": {
        "en": (
            r"\bdock\b",
            r"\b(?P<v>go|send|return|head|get|come)\b(?:\s+[^\s,.;!?]+){0,3}?\s+(?:back\s+)?(?:to\s+)?"
            r"(?:the\s+|its\s+|it's\s+)?(?P<p>base|dock|charger|charging (?:station|dock|base))\b",
            r"\bgo home\b",
            r"\b(?P<v>send)\b(?:\s+[^\s,.;!?]+){0,3}?\s+(?P<p>home)\b",
            r"\brecharge\b",
        ),
        "zh": (
            r"回充",
            r"回去充电",
            r"回座",
            r"回基站",
            r"回到充电座",
            r"回充电座",
            r"回家充电",
            r"归位",
            r"回去",
            r"回家",
        ),
        "ja": (
            r"充電台に戻",
            r"ドックに戻",
            r"基地に戻",
            r"戻して",
            r"戻って",
            r"帰らせて",
            r"ホームに戻",
            r"帰して",
        ),
    },
    "pause": {
        "en": (r"\bpause\b", r"\bhold on\b"),
        "zh": (r"暂停", r"先停一下", r"停一下"),
        "ja": (r"一時停止", r"ちょっと止めて", r"ポーズ"),
    },
    "stop": {
        "en": (r"\bstop\b", r"\bhalt\b", r"\bquit\b", r"\bcancel\b"),
        "zh": (r"停止", r"停下", r"停掉", r"停了", r"别扫了", r"不要扫了", r"别充了", r"不用扫了", r"停"),
        "ja": (r"止めて", r"とめて", r"停止", r"やめて", r"ストップ", r"止めろ", r"止まって", r"止めといて"),
    },
    "clean": {
        "en": (
            r"\bclean(?:ing)?\b",
            r"\bvacuuming\b",
            r"\bhoovering\b",
            r"\bsweep(?:ing)?\b",
            r"\bmop(?:ping)?\b",
        ),
        "zh": (r"打扫", r"扫地", r"扫一下", r"扫一扫", r"扫扫", r"清扫", r"吸尘", r"拖地", r"扫"),
        "ja": (r"掃除を?(?:して|始め|開始|スタート|お願い|しといて|しておいて)", r"掃除機を?かけ", r"掃除"),
    },
    "start": {
        "en": (r"\bstart\b", r"\bbegin\b", r"\bresume\b", r"\bkick off\b", r"\brun\b"),
        "zh": (r"开始", r"启动", r"继续"),
        "ja": (r"始めて", r"開始", r"スタート", r"動かして", r"起動", r"再開"),
    },
    "open": {
        "en": (r"\bopen\b", r"\bpull (?:up|back|open)\b", r"\bdraw back\b", r"\blift\b"),
        "zh": (r"拉开", r"拉起来", r"升起", r"打开一半"),
        "ja": (r"開けて", r"あけて", r"開いて", r"ひらいて", r"開ける", r"オープン"),
    },
    "close": {
        "en": (r"\bclose\b", r"\bshut\b(?!\s+(?:off|down))", r"\bdraw\b", r"\bpull (?:down|shut|closed)\b"),
        "zh": (r"拉上", r"合上", r"放下", r"闭上", r"拉拢"),
        "ja": (r"閉めて", r"しめて", r"閉じて", r"とじて", r"閉める", r"下ろして", r"おろして"),
    },
    "off": {
        "en": (
            r"\b(?P<v>turn|switch|power|shut|flip|put|cut)\b(?:\s+[^\s,.;!?]+){0,6}?\s+(?P<p>off)\b",
            r"\b(?P<v>left|leave)\b(?:\s+[^\s,.;!?]+){0,4}?\s+(?P<p>on)\b",  # "I left the lights on"
            r"\b(?:turn|switch|power|shut|flip|cut)\s+off\b",
            r"\bshut down\b",
            r"\bkill\b",
            r"\blights out\b",
            r"(?<=\S)\s+off\b(?=\s*(?:please|pls|now|thanks)?\s*[.!]*\s*$)",
        ),
        "zh": (
            r"关掉",
            r"关闭",
            r"关上",
            r"关了",
            r"关一下",
            r"关下",
            r"熄灭",
            r"灭掉",
            r"熄掉",
            r"关",
            r"灭",
        ),
        "ja": (r"消して", r"けして", r"消す", r"消しといて", r"切って", r"きって", r"オフ", r"落として"),
    },
    "on": {
        "en": (
            r"\b(?P<v>turn|switch|power|flip|put|fire)\b(?:\s+[^\s,.;!?]+){0,6}?\s+(?P<p>on)\b",
            r"\b(?:turn|switch|power|flip|fire)\s+on\b",
            r"\bfire up\b",
            r"(?<=\S)\s+on\b(?=\s*(?:please|pls|now|thanks)?\s*[.!]*\s*$)",
        ),
        "zh": (r"打开", r"开启", r"开一下", r"开下", r"开开", r"开", r"点亮", r"亮起"),
        "ja": (
            r"つけて",
            r"付けて",
            r"点けて",
            r"つける",
            r"つけといて",
            r"オンに",
            r"オンして",
            r"入れて",
            r"いれて",
            r"点灯",
        ),
    },
    "up:brightness": {
        "en": (r"\bbrighter\b", r"\bbrighten\b", r"\bmore light\b"),
        "zh": (r"调亮", r"亮一点", r"亮点", r"亮一些", r"亮些", r"再亮"),
        "ja": (r"明るく(?=し|す|な)", r"明るめに"),
    },
    "down:brightness": {
        "en": (r"\bdimmer\b", r"\bdim\b", r"\bless bright\b", r"\bdarker\b"),
        "zh": (r"调暗", r"暗一点", r"暗点", r"暗一些", r"暗些", r"再暗"),
        "ja": (r"暗く(?=し|す)", r"暗めに"),
    },
    "up:temperature": {
        "en": (r"\bwarmer\b", r"\b(?P<v>warm|heat)(?: [^\s,.;!?]+){0,2}? (?P<p>up)\b", r"\bhotter\b"),
        "zh": (r"暖和一点", r"暖和点", r"暖和些", r"热一点", r"热点", r"升温", r"暖一点"),
        "ja": (r"(?:暖か|あたたか|温か)く(?=し|す)", r"暖めて", r"温めて", r"あっためて", r"暖めと"),
    },
    "down:temperature": {
        "en": (
            r"\bcooler\b",
            r"\bcolder\b",
            r"\b(?P<v>cool)(?: [^\s,.;!?]+){0,2}? (?P<p>down|off)\b",
            r"\bchill\b",
        ),
        "zh": (r"凉快一点", r"凉快点", r"凉快些", r"凉一点", r"冷一点", r"降温", r"凉快凉快"),
        "ja": (r"(?:涼し|すずし)く(?=し|す)", r"冷やして", r"ひやして", r"冷やしと"),
    },
    "up:size": {
        "en": (r"\bstronger\b", r"\bfaster\b"),
        "zh": (r"调大", r"开大", r"大一点", r"大点", r"大一些", r"加大"),
        "ja": (r"(?:強|つよ)く(?=し|す)", r"強めに"),
    },
    "down:size": {
        "en": (r"\bweaker\b", r"\bslower\b", r"\bgentler\b"),
        "zh": (r"调小", r"开小", r"小一点", r"小点", r"小一些", r"减小"),
        "ja": (r"(?:弱|よわ)く(?=し|す)", r"弱めに"),
    },
    "up": {
        "en": (
            r"\b(?P<v>turn|crank|bump|push)\b(?:\s+[^\s,.;!?]+){0,4}?\s+(?P<p>up)\b",
            r"\bincrease\b",
            r"\bhigher\b",
            r"\braise\b",
            r"\bup a (?:bit|notch|little)\b",
        ),
        "zh": (
            r"调高",
            r"升高",
            r"提高",
            r"高一点",
            r"高点",
            r"高一些",
            r"加(?=[0-9一二两三四五]度)",
            r"往上调",
        ),
        "ja": (r"上げて", r"あげて", r"高く(?=し|す)", r"高めに", r"上げといて"),
    },
    "down": {
        "en": (
            r"\b(?P<v>turn|bring|knock)\b(?:\s+[^\s,.;!?]+){0,4}?\s+(?P<p>down)\b",
            r"\bdecrease\b",
            r"\blower\b",
            r"\breduce\b",
            r"\bdown a (?:bit|notch|little)\b",
        ),
        "zh": (r"调低", r"降低", r"低一点", r"低点", r"低一些", r"减(?=[0-9一二两三四五]度)", r"往下调"),
        "ja": (r"下げて", r"さげて", r"低く(?=し|す)", r"低めに", r"下げといて"),
    },
}

#: verbs matched before device kinds, because kind words sit inside them ("把门锁上", "鍵をかけて")
EARLY_VERBS: Final = ("unlock", "lock")

#: a feature of a device that has several (the car): words that pick it
FEATURE_WORDS: Final[dict[str, Words]] = {
    "charging": {
        "en": (r"\bcharg(?:e|ing)\b", r"\bplug (?:it|the car) in\b"),
        "zh": (r"充电", r"充上电", r"充電"),
        "ja": (r"充電",),
    },
    "climate": {
        "en": (
            r"\bclimate(?: control)?\b",
            r"\bpre-?heat(?:ing)?\b",
            r"\bpre-?cool(?:ing)?\b",
            r"\bpre-?condition(?:ing)?\b",
        ),
        "zh": (r"预热", r"预冷", r"暖车", r"车内空调", r"車內空調"),
        "ja": (r"プレ空調", r"事前空調", r"車内エアコン"),
    },
}

#: words that never start a verb: kept whole before verbs are looked for ("开关" is a switch)
PROTECTED_WORDS: Final[Words] = {
    "en": (),
    "zh": ("开关", "离开", "开车", "关于", "关系", "开心", "关心", "开会", "开门见山"),
    "ja": (),
}


def room_words(language: Language) -> dict[str, tuple[str, ...]]:
    """``{room concept: words}`` in one language (``"zh"`` → ``{"living-room": ("客厅", …), …}``)."""
    return {concept: words.get(language, ()) for concept, words in ROOM_WORDS.items()}


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


@lru_cache(maxsize=1)
def _concept_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for concept, words in ROOM_WORDS.items():
        index[_fold(concept)] = concept
        for lang in LANGUAGES:
            for word in words.get(lang, ()):
                index.setdefault(_fold(word), concept)
    return index


def room_concept(text: str) -> str | None:
    """The room concept of a room word, name or id in any language, or ``None``.

    ``"客厅"``, ``"リビング"``, ``"Living room"``, ``"living-room"``, ``"the living room"``
    → ``"living-room"``. Exact words only (after case folding, ``-``/``_`` as spaces and a
    leading "the"/"my"/"our"): "Bedroom 2" is not a bedroom here; the planner falls back
    to its own matching for that.
    """
    folded = _fold(text)
    for prefix in ("the ", "my ", "our "):
        if folded.startswith(prefix):
            folded = folded[len(prefix) :]
    return _concept_index().get(folded)


def kind_words(language: Language) -> dict[str, tuple[str, ...]]:
    """``{device kind: words}`` in one language."""
    return {kind: words.get(language, ()) for kind, words in KIND_WORDS.items()}


def all_words(table: Words) -> tuple[str, ...]:
    """Every word of a per-language table, in all three languages."""
    return tuple(w for lang in LANGUAGES for w in table.get(lang, ()))
