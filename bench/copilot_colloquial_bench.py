"""The copilot on colloquial and implicit requests: ours against the grammar baseline.

The set is tests/data/copilot_colloquial.yaml (zh, en, ja: implicit needs, questions,
commands the Home Assistant templates do not phrase, automations in words, and requests
that should not be understood). Scored the same way as the tests score it
(tests/test_copilot_colloquial.py: targets by the devices they mean in the simulated
home, values exactly). Engines, in the same run:

- ``offline`` — what `trilink say` uses: grammar + rules, merged;
- ``rules`` — the rules alone;
- ``grammar (baseline)`` — hassil + home-assistant-intents alone (trilink's grammar
  engine, i.e. the Home Assistant templates mapped onto trilink's intents).

Also the offline engine's latency per request (understanding + planning) over the set.

    .venv/bin/python bench/copilot_colloquial_bench.py [--show-failures N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import median, percentile, save
from test_copilot_colloquial import case_problem, load_cases, sim_vocabulary
from trilink.copilot.grammar import GrammarEngine
from trilink.copilot.lang import detect_language
from trilink.copilot.offline import OfflineEngine
from trilink.copilot.rules import RulesEngine


def category(case: dict[str, Any]) -> str:
    if not case.get("intents"):
        return "not for us"
    if "why" in case:
        return "implicit"
    names = {i.get("name") for i in case["intents"]}
    if "automation" in names:
        return "automation"
    if names == {"query"}:
        return "question"
    return "command"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--show-failures", type=int, default=0)
    args = ap.parse_args()
    cases = load_cases()
    vocab = sim_vocabulary()
    offline = OfflineEngine()
    engines = {
        "offline": offline.understand,
        "rules": RulesEngine().understand,
        "grammar (baseline)": GrammarEngine().understand,
    }
    # (engine, language, category) -> [passed, total]
    table: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    failures: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for case in cases:
        text = case["text"]
        lang = case.get("lang") or detect_language(text)
        for name, understand in engines.items():
            try:
                problem = case_problem(case, understand(text, vocab, lang), vocab)
            except Exception as exc:  # a crash is a failure of that engine
                problem = f"raised {exc!r}"
            for key in (
                (name, lang, category(case)),
                (name, lang, "all"),
                (name, "all", category(case)),
                (name, "all", "all"),
            ):
                table[key][1] += 1
                table[key][0] += problem is None
            if problem is not None:
                failures[name].append((text, problem))
    # latency of the offline engine with planning, the way `say` runs it
    from copilot_world import make_home
    from trilink.copilot.lexicon import room_concept
    from trilink.copilot.planner import Planner

    kernel, _, _ = make_home()
    planner = Planner(kernel, concept_of=room_concept)
    home_vocab = planner.vocabulary()
    times: list[float] = []
    for _ in range(3):
        for case in cases:
            t0 = time.perf_counter()
            u = offline.understand(case["text"], home_vocab)
            planner.plan(u, speaker_room=case.get("room", "living-room"), vocabulary=home_vocab)
            times.append((time.perf_counter() - t0) * 1000)
    cats = ["implicit", "command", "question", "automation", "not for us", "all"]
    print(f"{len(cases)} cases; accuracy per engine, language and kind of request\n")
    print(f"{'engine':20} {'lang':4} " + " ".join(f"{c:>12}" for c in cats))
    out: dict[str, Any] = {"cases": len(cases), "accuracy": {}}
    for name in engines:
        for lang in ("zh", "en", "ja", "all"):
            cells = []
            for c in cats:
                passed, total = table[(name, lang, c)]
                cells.append(f"{passed / total:11.1%}" if total else f"{'-':>11}")
                if total:
                    out["accuracy"][f"{name}/{lang}/{c}"] = {"passed": passed, "total": total}
            print(f"{name:20} {lang:4} " + " ".join(f"{x:>12}" for x in cells))
    med, p95 = median(times), percentile(times, 95)
    print(f"\noffline engine, understand + plan: median {med:.2f} ms, p95 {p95:.2f} ms", end="")
    print(f", max {max(times):.1f} ms (n={len(times)})")
    out["latency_ms"] = {"median": med, "p95": p95, "max": max(times)}
    for name in engines:
        for text, why in failures[name][: args.show_failures]:
            print(f"  {name}: {text!r}: {why}")
    save("copilot_colloquial", out)


if __name__ == "__main__":
    main()
