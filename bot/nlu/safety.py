"""Safety first: a pipeline component that lets safety intents win over any other intent.

A resident who writes 家が燃えてる or 死にたい must be routed to 119/110 or a crisis line even when
the statistical classifier is unsure or distracted by other words in a long message. This
component runs after the classifiers (and after the FallbackClassifier) and, when the message
matches one of the patterns in the safety file (``data/safety.yml``, reviewed by staff), sets the
message's intent to that safety intent with full confidence. The classifier's own prediction is
kept in the intent ranking.

The patterns are read at training time and stored inside the trained model. The rules themselves live in
:mod:`bot.crisis` (plain Python), which the channels also use to answer a crisis when a turn fails.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.crisis import SafetyRule, load_rules, match_rules, parse_rules, rules_to_plain

logger = logging.getLogger(__name__)

_RULES_FILE = "safety_rules.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafetyOverride(GraphComponent, IntentClassifier):
    """Sets a safety intent (emergency, self_harm, dv) when a safety pattern matches."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """None declared: Rasa would also demand them in the training graph, where classifiers are not
        ancestors of this component. Place it last in the pipeline, after the FallbackClassifier."""
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # YAML file with the safety rules, read at training time and stored in the model.
            "rules_file": "data/safety.yml",
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        rules: List[SafetyRule] | None = None,
    ) -> None:
        """Constructs the component."""
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self._rules = rules or []

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyOverride:
        """Creates a new, untrained component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Reads the rules file and stores the rules inside the model."""
        self._rules = load_rules(Path(self.component_config["rules_file"]))
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / _RULES_FILE).write_text(
                json.dumps(rules_to_plain(self._rules), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyOverride:
        """Loads the rules stored inside the model."""
        with model_storage.read_from(resource) as directory:
            raw = json.loads((Path(directory) / _RULES_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, parse_rules(raw, "model"))

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrides the intent of messages that match a safety rule."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            intent = self.match(text)
            if intent:
                self._override(message, intent)
        return messages

    def match(self, text: str) -> str | None:
        """Returns the safety intent the text matches, if any (first rule wins)."""
        return match_rules(self._rules, text)

    @staticmethod
    def _override(message: Message, intent: str) -> None:
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent]
        override = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, override, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [override, *ranking], add_to_output=True)
