"""Automations: when something happens (triggers), if things are so (conditions), do this (actions).

The public surface is :class:`AutomationEngine` with the store interface it persists
through; the definition format is described in ``docs/automations.md``.
"""

from trilink.automation.blueprints import Blueprint, builtin_blueprints, instantiate, load_blueprint
from trilink.automation.conditions import ConditionResult
from trilink.automation.definitions import Automation, Scene
from trilink.automation.engine import (
    AutomationEngine,
    AutomationInfo,
    LoadReport,
    UnknownAutomation,
    UnknownScene,
)
from trilink.automation.errors import DefinitionError
from trilink.automation.geo import Zone
from trilink.automation.persist import AutomationStore, MemoryAutomationStore, StoredDocument

__all__ = [
    "Automation",
    "AutomationEngine",
    "AutomationInfo",
    "AutomationStore",
    "Blueprint",
    "ConditionResult",
    "DefinitionError",
    "LoadReport",
    "MemoryAutomationStore",
    "Scene",
    "StoredDocument",
    "UnknownAutomation",
    "UnknownScene",
    "Zone",
    "builtin_blueprints",
    "instantiate",
    "load_blueprint",
]
