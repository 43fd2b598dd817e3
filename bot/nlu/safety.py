"""Safety first: a pipeline component that lets safety intents win over any other intent.

A resident who writes 家が燃えてる or 死にたい must be routed to 119/110 or a crisis line even when
the statistical classifier is unsure or distracted by other words in a long message. This
component runs after the classifiers (and after the FallbackClassifier) and, when the message
matches one of the patterns in the safety file (``data/safety.yml``, reviewed by staff), sets the
message's intent to that safety intent with full confidence. The classifier's own prediction is
kept in the intent ranking.

The patterns are read at training time and stored inside the trained model. The rules themselves live in
:mod:`bot.crisis` (plain Python), which the channels also use to answer a crisis when a turn fails.

Beside the rules, the meaning of the message is judged (:mod:`bot.understanding.crisis`): a classifier over
sentence vectors, trained with the model on ``data/safety_examples.yml`` and the NLU training examples, and
stored inside it. Sure (and the intent classifier did not name a topic, :data:`TOPIC_INTENTS`): the intent
is overridden as for a rule. Unsure: the intent stays, and the parse data
carries ``crisis: {intent, category, level: "unsure"}`` so the answer comes with that crisis line — when
the intent's answer can carry one (:data:`LINE_CARRYING_INTENTS`); otherwise the safety answer is given. Every
crisis finding is also in the parse data under ``crisis`` (``category`` says 119
or 110 apart when the classifier judged it: ``emergency`` or ``crime``).
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

from bot.crisis import SafetyRule, load_farewell, load_rules, parse_farewell, parse_rules, rules_to_plain
from bot.understanding import crisis as semantic

logger = logging.getLogger(__name__)

_RULES_FILE = "safety_rules.json"
#: The farewell check of the rules file (``null`` when it has none).
_FAREWELL_FILE = "safety_farewell.json"
#: Parse-data key of the crisis finding (read by the conversation core).
CRISIS_KEY = "crisis"
#: When the intent classifier (above its FallbackClassifier threshold) says the resident asks about a
#: topic, a crisis found by meaning alone goes beside the answer instead of replacing it. Seen on the
#: tune halves of blind sets 4 and 5: 8 procedure/phone/life-event questions (short kana, dialect, romaji,
#: 父が今朝亡くなりました) answered with a crisis line only; the rules still override as before.
TOPIC_INTENTS = ("ask_procedure", "ask_online", "ask_details", "life_event", "ask_phone", "request_callback")
#: Intents whose answer goes through the conversation core (:func:`bot.dialogue.decide.decide`), which
#: puts an unsure crisis's line before it. Any other intent (a greeting, thanks, goodbye, yes/no, out of
#: scope, feedback, the callback form) is answered by a fixed response or a form that carries no line: an
#: unsure crisis with one of them gets the safety answer instead ("never a reply without a number").
#: Seen on the tune half of the safety sets: farewells said as a last message (goodbye/thank).
LINE_CARRYING_INTENTS = (
    "ask_procedure",
    "ask_online",
    "ask_details",
    "life_event",
    "ask_phone",
    "nlu_fallback",
    "inform",
    "faq_select",
)
#: Intents whose answer is a safety answer (119/110, crisis lines, DV, abuse).
SAFETY_INTENTS = semantic.SAFETY_INTENTS
#: Intent Rasa's FallbackClassifier sets when the classifier is unsure.
FALLBACK_INTENT = "nlu_fallback"


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
            # the FallbackClassifier's threshold (config.yml): a demoted safety guess whose runner-up
            # is below it becomes nlu_fallback, as the FallbackClassifier would have made it
            "fallback_threshold": 0.45,
            # crisis example sentences for the meaning classifier (trained into the model); "" = rules only
            "examples_file": "data/safety_examples.yml",
            # the NLU training files (some are left out of the classifier's 'ordinary' side:
            # bot.understanding.crisis.NOT_ORDINARY_EVIDENCE)
            "nlu_dir": "data/nlu",
            # where sentence vectors of the training texts are cached (content hash; git-ignored)
            "embedding_cache": "var/embeddings",
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        rules: List[SafetyRule] | None = None,
        detector: semantic.CrisisDetector | None = None,
    ) -> None:
        """Constructs the component."""
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self._rules = rules or []
        self._detector = detector or semantic.CrisisDetector(self._rules)

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
        """Reads the rules file, trains the meaning classifier and stores both inside the model."""
        self._rules = load_rules(Path(self.component_config["rules_file"]))
        farewell = load_farewell(Path(self.component_config["rules_file"]))
        classifier, intents = self._train_classifier(training_data)
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / _RULES_FILE).write_text(
                json.dumps(rules_to_plain(self._rules), ensure_ascii=False), encoding="utf-8"
            )
            (Path(directory) / _FAREWELL_FILE).write_text(
                json.dumps(rules_to_plain([farewell])[0] if farewell else None, ensure_ascii=False),
                encoding="utf-8",
            )
            if classifier is not None:
                semantic.write_classifier(Path(directory), classifier, intents, self._encoder().model_id)
        return self._resource

    def _train_classifier(self, training_data: TrainingData):
        examples_file = self.component_config.get("examples_file")
        if not examples_file:
            return None, {}
        examples = semantic.load_examples(Path(examples_file))
        pairs = [
            (m.get(INTENT), m.get(TEXT))
            for m in training_data.intent_examples
            if m.get(INTENT) and m.get(TEXT)
        ]
        pairs = semantic.ordinary_evidence(pairs, Path(self.component_config["nlu_dir"]))
        cache = self.component_config.get("embedding_cache") or None
        classifier = semantic.train_classifier(
            examples, pairs, self._encoder(), Path(cache) if cache else None
        )
        return classifier, semantic.category_intents(examples)

    @staticmethod
    def _encoder():
        from bot.understanding.encoder import default_encoder

        return default_encoder()

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyOverride:
        """Loads the rules and the meaning classifier stored inside the model."""
        with model_storage.read_from(resource) as directory:
            raw = json.loads((Path(directory) / _RULES_FILE).read_text(encoding="utf-8"))
            rules = parse_rules(raw, "model")
            farewell = cls._stored_farewell(Path(directory) / _FAREWELL_FILE)
            detector = semantic.CrisisDetector(rules, farewell=farewell)
            stored = Path(directory) / semantic.CLASSIFIER_FILE
            if stored.exists():
                meta = (Path(directory) / semantic.META_FILE).read_text(encoding="utf-8")
                # one assessment per text, shared with the channels' crisis desk (same model, same rules)
                detector = semantic.stored_detector(
                    rules, stored.read_bytes(), meta, cls._encoder(), farewell
                )
        return cls(config, model_storage, resource, rules, detector)

    @staticmethod
    def _stored_farewell(path: Path) -> SafetyRule | None:
        if not path.exists():
            logger.error(
                "safety: the model was trained before the farewell check was stored in it; no farewell "
                "line until it is retrained (make model)"
            )
            return None
        return parse_farewell(json.loads(path.read_text(encoding="utf-8")), "model")

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrides the intent of crisis messages; marks the unsure ones (see the module docstring)."""
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue
            found = self._detector.assess(text)
            if found.level is None:
                self._second_opinion(message)
                continue
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if found.demoted == "kana" and current in SAFETY_INTENTS:
                # kana text that only looked like a crisis (ぜいきんがはらえません): the classifier's safety
                # intent is no second opinion (the same kana misled it); its line goes beside the next
                # intent's answer, as the detector's measured "unsure" says
                self._second_opinion(message)
                current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            # meaning alone does not replace an answer the intent classifier is confident about
            sure = found.level == "sure" and (found.source == "rule" or current not in TOPIC_INTENTS)
            # ... unless that answer could not carry the crisis line beside it
            sure = sure or current not in LINE_CARRYING_INTENTS
            if sure:
                self._override(message, found.intent)
            message.set(
                CRISIS_KEY,
                {
                    "intent": found.intent,
                    "category": found.category or found.intent,
                    "level": "sure" if sure else "unsure",
                    "source": found.source,
                },
                add_to_output=True,
            )
        return messages

    def match(self, text: str) -> str | None:
        """The safety intent a safety answer is due for (rules, then meaning), if any."""
        return self._detector.match(text)

    def _second_opinion(self, message: Message) -> None:
        """A safety intent from the bag-of-words intent classifier alone, where neither the rules nor the
        meaning detector sees a crisis, is not answered as one: the next intent of the ranking is (or
        nlu_fallback below the fallback threshold). Seen: 「ふくろ売ってる店」 (where to buy the city's
        garbage bags) → emergency 0.50 from the classifier (meaning: 0.02) → a 119/110 answer. The
        classifier then added no crisis on the tune half of the safety evaluation sets that the detector
        did not find (``bench.safety_bench``, README). Without the meaning detector (rules only) the
        classifier's guess stays."""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent not in SAFETY_INTENTS or not self._detector.semantic:
            return
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) not in SAFETY_INTENTS
        ]
        threshold = float(self.component_config.get("fallback_threshold", 0.45))
        best = ranking[0] if ranking else None
        if (
            best is None
            or best.get(INTENT_NAME_KEY) == FALLBACK_INTENT
            or best.get(PREDICTED_CONFIDENCE_KEY, 0.0) < threshold
        ):
            best = {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: threshold}
            ranking = [best, *(r for r in ranking if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT)]
        message.set(INTENT, dict(best), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    @staticmethod
    def _override(message: Message, intent: str) -> None:
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent]
        override = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, override, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [override, *ranking], add_to_output=True)
