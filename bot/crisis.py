"""Crisis routing that needs neither Redis nor the action server: the safety detector and its answers.

A resident who writes 家が燃えてる, 死にたい or 母が揺すっても起きない must get 119/110 or a crisis
line even when everything behind the channel is broken: Redis down or hung, the tracker store or lock store
failing, the action server dead, the model still loading. The NLU pipeline (:mod:`bot.nlu.safety`) routes
such messages inside Rasa; when a turn fails or is slow, the channels use a :class:`CrisisDesk` to answer the
crisis themselves from ``data/safety.yml`` and the ``utter_<intent>`` responses of ``domain.yml`` — the very
text and ``custom.madoguchi`` payload the bot would have sent.

The desk judges a message as the NLU pipeline does (:class:`bot.understanding.crisis.CrisisDetector`: the
rules of ``data/safety.yml``, then the meaning classifier stored in the trained model), with the process's
one sentence encoder (:func:`bot.understanding.encoder.default_encoder`, shared with the pipeline, loaded
when the desk is built at start-up). Without the model file or the encoder it still answers by the rules,
and says so at start in an ERROR log line.

Plain Python: no Rasa import, nothing read at import time.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import tarfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.understanding.crisis import match_rules  # one home for the order rules are tried in

logger = logging.getLogger(__name__)

SAFETY_FILE = "safety.yml"
DOMAIN_FILE = "domain.yml"
DEPARTMENTS_FILE = "departments.yml"
#: The answer of a safety intent is the domain response named after it (``emergency`` → ``utter_emergency``),
#: as in ``data/rules.yml``.
RESPONSE_PREFIX = "utter_"


class CrisisDataError(ValueError):
    """The safety rules or their answers are missing or malformed (the message names file and entry)."""


@dataclass(frozen=True)
class SafetyRule:
    """Patterns that route a message to one safety intent."""

    intent: str
    patterns: tuple[re.Pattern, ...]
    exceptions: tuple[re.Pattern, ...] = ()

    def matches(self, normalized_text: str) -> bool:
        """Whether the (normalized) text matches this rule and none of its exceptions."""
        if any(p.search(normalized_text) for p in self.exceptions):
            return False
        return any(p.search(normalized_text) for p in self.patterns)


def load_rules(path: Path) -> list[SafetyRule]:
    """Reads and validates the safety rules file.

    Raises:
        ValueError: naming the rule and pattern when the file is malformed.
    """
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return parse_rules(raw.get("rules"), str(path))


def parse_rules(raw_rules: Any, source: str = "safety rules") -> list[SafetyRule]:
    """Builds rules from their plain data form (as in the YAML file)."""
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ValueError(f"{source}: 'rules' must be a non-empty list")
    rules = []
    for index, item in enumerate(raw_rules, start=1):
        intent = item.get("intent") if isinstance(item, dict) else None
        if not intent:
            raise ValueError(f"{source}: rule {index}: 'intent' is missing")
        patterns = tuple(_compile(p, source, intent) for p in item.get("patterns") or [])
        if not patterns:
            raise ValueError(f"{source}: rule {intent}: 'patterns' is empty")
        exceptions = tuple(_compile(p, source, intent) for p in item.get("exceptions") or [])
        rules.append(SafetyRule(intent, patterns, exceptions))
    return rules


def load_farewell(path: Path) -> SafetyRule | None:
    """Reads the ``farewell`` section of the safety rules file (a goodbye that sounds final, read on the
    whole message: only a crisis line, never the safety answer); ``None`` when the file has none.

    Raises:
        ValueError: naming the file and pattern when the section is malformed, or when its intent is not
            one of the file's rules' intents (the line would have no answer to come from).
    """
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    farewell = parse_farewell(raw.get("farewell"), str(path))
    if farewell is not None:
        intents = {rule.intent for rule in parse_rules(raw.get("rules"), str(path))}
        if farewell.intent not in intents:
            raise ValueError(
                f"{path}: farewell: intent {farewell.intent!r} is not one of the rules' intents "
                f"{sorted(intents)}"
            )
    return farewell


def parse_farewell(raw: Any, source: str = "safety rules") -> SafetyRule | None:
    """The farewell check from its plain data form (the file's ``farewell`` section), or ``None``."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: 'farewell' must be a mapping with 'intent', 'patterns' and 'exceptions'")
    return parse_rules([raw], f"{source}: farewell")[0]


def rules_to_plain(rules: Sequence[SafetyRule]) -> list[dict[str, Any]]:
    """The plain data form of rules (what :func:`parse_rules` reads back)."""
    return [
        {
            "intent": r.intent,
            "patterns": [p.pattern for p in r.patterns],
            "exceptions": [p.pattern for p in r.exceptions],
        }
        for r in rules
    ]


def _compile(pattern: str, source: str, intent: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{source}: rule {intent}: bad pattern {pattern!r}: {error}") from error


@dataclass(frozen=True)
class CrisisDesk:
    """Answers crisis messages without Redis or the action server, for the channels' failure paths.

    Attributes:
        rules: the safety rules (``data/safety.yml``).
        answers: per safety intent, the bot messages of its ``utter_<intent>`` response (``text`` and
            ``custom``, as Rasa's output channels collect them).
        city_phone: the city's main number (``data/departments.yml`` ``city.phone``), for error texts.
        detector: judges a message, rules then meaning (a
            :class:`bot.understanding.crisis.CrisisDetector`); ``None``: the rules alone.
    """

    rules: tuple[SafetyRule, ...]
    answers: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    city_phone: str = ""
    detector: Any = None

    @property
    def semantic(self) -> bool:
        """Whether the meaning of a message is judged too, not only the rules."""
        return bool(getattr(self.detector, "semantic", False))

    def intent_of(self, text: str) -> str | None:
        """The safety intent whose crisis line a message needs, if any.

        Sure or unsure alike (recall first): the desk speaks only when the turn failed or is late, and a
        crisis line instead of an error text is then the safer mistake.
        """
        found = self.judge(text)
        return found[0] if found else None

    def judge(self, text: str) -> tuple[str, bool] | None:
        """``(safety intent, sure)`` for a message that needs a crisis line, else ``None``: what the
        language desk asks of a message in another language (:mod:`bot.language`; the meaning
        classifier is multilingual). A rule's finding is sure; without the meaning classifier the rules
        alone judge."""
        if not text or not text.strip():
            return None
        if self.detector is None:
            return self._by_rules(text)
        try:
            found = self.detector.assess(text)
        except Exception as error:  # noqa: BLE001 — the channel must go on; the rules still answer
            logger.error(
                "crisis desk: the meaning detector failed (%s); judged by the rules", type(error).__name__
            )
            return self._by_rules(text)
        if not found.needs_crisis_line or found.intent not in self.answers:
            return None
        return found.intent, found.is_crisis

    def _by_rules(self, text: str) -> tuple[str, bool] | None:
        intent = match_rules(self.rules, text)
        return (intent, True) if intent else None

    def answer(self, text: str) -> list[dict[str, Any]] | None:
        """The crisis answer for ``text`` (fresh copies of the response messages), or ``None``."""
        intent = self.intent_of(text)
        if intent is None:
            return None
        return [copy.deepcopy(dict(m)) for m in self.answers[intent]]


def load_desk(
    data_dir: Path, domain_path: Path, model: Path | None = None, encoder: Any = None
) -> CrisisDesk:
    """Builds the desk from ``data_dir/safety.yml``, the domain's responses and the city's phone.

    Args:
        model: the trained model archive whose stored crisis classifier judges meaning (``None``: the
            rules alone). When it or the encoder cannot be loaded, the desk answers by the rules and an
            ERROR log line says why.
        encoder: the sentence encoder (default: the process's one, shared with the NLU pipeline); its
            engine is loaded here, at start-up, not on the first message.

    Raises:
        CrisisDataError: a rule whose intent has no ``utter_<intent>`` response with a text, or an
            unreadable file (named in the message).
    """
    rules = tuple(load_rules(data_dir / SAFETY_FILE))
    farewell = load_farewell(data_dir / SAFETY_FILE)
    responses = _read_mapping(domain_path).get("responses") or {}
    answers = {}
    for intent in {r.intent for r in rules}:
        name = RESPONSE_PREFIX + intent
        answers[intent] = _response_messages(responses.get(name), f"{domain_path}: {name}")
    detector = _semantic_detector(rules, farewell, model, encoder) if model is not None else None
    return CrisisDesk(rules=rules, answers=answers, city_phone=city_phone(data_dir), detector=detector)


def _semantic_detector(rules: Sequence[SafetyRule], farewell: SafetyRule | None, model: Path, encoder: Any):
    """The rules + meaning detector from the model's stored classifier, or ``None`` (logged loudly)."""
    from bot.understanding import crisis as semantic
    from bot.understanding.encoder import EncoderUnavailable, default_encoder

    try:
        encoder = encoder or default_encoder()
        arrays, meta = read_model_members(model, (semantic.CLASSIFIER_FILE, semantic.META_FILE))
        # shares its assessments with the NLU's detector of the same model
        detector = semantic.stored_detector(rules, arrays, meta.decode("utf-8"), encoder, farewell)
        encoder.load()
    except (OSError, tarfile.TarError, KeyError, ValueError, UnicodeDecodeError, EncoderUnavailable) as error:
        logger.error(
            "crisis desk: the meaning detector is not available (%s: %s); while a turn fails, crises are "
            "recognised by the rules of %s alone",
            type(error).__name__,
            error,
            SAFETY_FILE,
        )
        return None
    logger.info("crisis desk: rules and meaning (%s, stored in %s)", encoder.model_id, model.name)
    return detector


#: The trained model's component that stores the crisis classifier (``bot.nlu.safety.SafetyOverride``);
#: its resource directory in the archive is ``components/train_<module>.SafetyOverride<n>/``.
SAFETY_COMPONENT = "SafetyOverride"


def read_model_members(model: Path, names: Sequence[str]) -> tuple[bytes, ...]:
    """The contents of the safety component's files ``names`` in a trained model archive (a tar.gz).

    Raises:
        KeyError: the archive holds no such file (a model trained without the meaning classifier).
        OSError, tarfile.TarError: the archive cannot be read.
    """
    found: dict[str, bytes] = {}
    with tarfile.open(model, "r:gz") as archive:
        for member in archive:
            parts = member.name.strip("/").split("/")
            if not member.isfile() or len(parts) < 2 or parts[-1] not in names:
                continue
            if SAFETY_COMPONENT not in parts[-2]:
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                found[parts[-1]] = handle.read()
    missing = [n for n in names if n not in found]
    if missing:
        raise KeyError(f"{model.name} has no {', '.join(missing)} of the {SAFETY_COMPONENT} component")
    return tuple(found[n] for n in names)


def city_phone(data_dir: Path) -> str:
    """The city's main number from ``departments.yml`` (``""`` when it cannot be read).

    Read on its own rather than through the catalog loader: an error text must still carry the number
    while a staff edit has left some other part of the catalog invalid.
    """
    try:
        city = _read_mapping(data_dir / DEPARTMENTS_FILE).get("city")
    except CrisisDataError:
        return ""
    phone = city.get("phone") if isinstance(city, Mapping) else None
    return phone.strip() if isinstance(phone, str) else ""


def _read_mapping(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CrisisDataError(f"{path}: cannot read: {error}") from error
    if not isinstance(data, Mapping):
        raise CrisisDataError(f"{path}: expected a mapping at the top level")
    return data


def _response_messages(variants: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    """The first variant of a domain response as bot messages (Rasa picks one variant; all say the same)."""
    if not isinstance(variants, list) or not variants or not isinstance(variants[0], Mapping):
        raise CrisisDataError(f"{where}: missing (every safety rule needs its response)")
    first = variants[0]
    if not isinstance(first.get("text"), str) or not first["text"].strip():
        raise CrisisDataError(f"{where}: has no text")
    message: dict[str, Any] = {"text": first["text"]}
    for key in ("custom", "buttons"):
        if first.get(key):
            message[key] = copy.deepcopy(first[key])
    return (message,)


class BackgroundTurns:
    """Turns a channel stopped waiting for (it answered a crisis from data) but lets finish.

    The conversation is then recorded as usual. A reference to each task is kept until it ends; its
    failure reaches ``on_error``.
    """

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._on_error = on_error

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait(self, turn: Awaitable[Any], timeout: float) -> None:
        """Awaits ``turn`` for at most ``timeout`` seconds.

        Raises:
            asyncio.TimeoutError: the turn is still running; it goes on in the background.
        """
        task = asyncio.ensure_future(turn)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=timeout)
        except asyncio.TimeoutError:
            self._tasks.add(task)
            task.add_done_callback(self._finished)
            raise

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._on_error(task.exception())
