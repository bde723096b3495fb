"""The copilot: natural-language requests in Chinese, English and Japanese become plans.

Understanding engines (a grammar, rules for colloquial and implicit requests, an
optional OpenAI-compatible model) produce an :class:`~trilink.copilot.intent.Understanding`;
the planner resolves it against the live registry into a :class:`~trilink.copilot.plan.Plan`
of validated commands, which is sent, shown (dry run) or held for confirmation.
"""

from trilink.copilot.intent import Intent, Target, Understanding
from trilink.copilot.lang import detect_language
from trilink.copilot.plan import Fact, Plan, Step
from trilink.copilot.vocabulary import Vocabulary, kind_of

__all__ = [
    "Fact",
    "Intent",
    "Plan",
    "Step",
    "Target",
    "Understanding",
    "Vocabulary",
    "detect_language",
    "kind_of",
]
