"""The offline engine: the grammar for Home Assistant-style phrasing, rules for the rest.

No network and no model: the grammar (hassil with the Home Assistant intents) knows
explicit commands in many phrasings; the rules know colloquial and implicit requests,
questions about the car, automations in words, and the devices the grammar has no
intents for. Both run; the rules' reading wins when it carries more than the grammar's
(a need behind the words, several intents, a car feature, values the grammar lost).
"""

from __future__ import annotations

from trilink.copilot.grammar import GrammarEngine
from trilink.copilot.intent import Language, Understanding
from trilink.copilot.lang import detect_language
from trilink.copilot.rules import RulesEngine
from trilink.copilot.vocabulary import Vocabulary


def _richer(rules: Understanding, grammar: Understanding) -> bool:
    """Whether the rules' reading says more than the grammar's, without contradicting it.

    The grammar's reading of a phrasing it knows is trusted: the rules win only when
    they keep its intent names and values and add something (a need behind the words,
    another intent, a car feature, a value or a change the grammar lost).
    """
    if rules.why is not None:
        return True
    g_intents, r_intents = grammar.intents, rules.intents
    if [i.name for i in r_intents[: len(g_intents)]] != [i.name for i in g_intents]:
        # a different reading: the rules win for what the grammar has no intents for
        return any(i.name == "automation" or i.target.feature is not None for i in r_intents)
    more = len(r_intents) > len(g_intents)
    for r, g in zip(r_intents, g_intents, strict=False):
        if not set(g.values) <= set(r.values) or not set(g.deltas) <= set(r.deltas):
            return False
        if g.target.floors and not r.target.floors:
            return False  # the rules know no floors: they would lose where
        if r.target.feature is not None and g.target.feature is None:
            more = True
        if set(r.values) - set(g.values) or set(r.deltas) - set(g.deltas):
            more = True
    return more


class OfflineEngine:
    """Understands a request with no network: grammar and rules, merged."""

    name = "offline"

    def __init__(self, grammar: GrammarEngine | None = None, rules: RulesEngine | None = None) -> None:
        self.grammar = grammar or GrammarEngine()
        self.rules = rules or RulesEngine()

    def understand(
        self, text: str, vocabulary: Vocabulary, language: Language | None = None
    ) -> Understanding:
        """The best reading of ``text``; an ``unknown`` understanding when neither engine knows it."""
        lang = language or detect_language(text)
        grammar = self.grammar.understand(text, vocabulary, lang)
        rules = self.rules.understand(text, vocabulary, lang)
        if grammar is not None and grammar.understood:
            if rules is not None and rules.understood and _richer(rules, grammar):
                return rules
            return grammar
        if rules is not None and rules.understood:
            return rules
        return Understanding(lang, (), "offline", text=text)
