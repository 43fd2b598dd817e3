"""Crisis routing that needs nothing but the data files: the safety rules and their answers.

A resident who writes 家が燃えてる or 死にたい must get 119/110 or a crisis line even when everything behind
the channel is broken: Redis down or hung, the tracker store or lock store failing, the action server dead,
the model still loading. The NLU pipeline (:mod:`bot.nlu.safety`) uses the same :class:`SafetyRule` set to
route such messages inside Rasa; when a turn fails, the channels use a :class:`CrisisDesk` to answer the
crisis themselves from ``data/safety.yml`` and the ``utter_<intent>`` responses of ``domain.yml`` — the very
text and ``custom.madoguchi`` payload the bot would have sent.

Plain Python: no Rasa import, nothing read at import time.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.text import normalize

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


def match_rules(rules: Sequence[SafetyRule], text: str) -> str | None:
    """The safety intent the text matches, if any (first rule wins)."""
    normalized = normalize(text)
    for rule in rules:
        if rule.matches(normalized):
            return rule.intent
    return None


@dataclass(frozen=True)
class CrisisDesk:
    """Answers crisis messages from data alone, for the channels' failure paths.

    Attributes:
        rules: the safety rules (``data/safety.yml``).
        answers: per safety intent, the bot messages of its ``utter_<intent>`` response (``text`` and
            ``custom``, as Rasa's output channels collect them).
        city_phone: the city's main number (``data/departments.yml`` ``city.phone``), for error texts.
    """

    rules: tuple[SafetyRule, ...]
    answers: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    city_phone: str = ""

    def intent_of(self, text: str) -> str | None:
        """The safety intent of a message, if it is a crisis."""
        return match_rules(self.rules, text) if text else None

    def answer(self, text: str) -> list[dict[str, Any]] | None:
        """The crisis answer for ``text`` (fresh copies of the response messages), or ``None``."""
        intent = self.intent_of(text)
        if intent is None:
            return None
        return [copy.deepcopy(dict(m)) for m in self.answers[intent]]


def load_desk(data_dir: Path, domain_path: Path) -> CrisisDesk:
    """Builds the desk from ``data_dir/safety.yml``, the domain's responses and the city's phone.

    Raises:
        CrisisDataError: a rule whose intent has no ``utter_<intent>`` response with a text, or an
            unreadable file (named in the message).
    """
    rules = tuple(load_rules(data_dir / SAFETY_FILE))
    responses = _read_mapping(domain_path).get("responses") or {}
    answers = {}
    for intent in {r.intent for r in rules}:
        name = RESPONSE_PREFIX + intent
        answers[intent] = _response_messages(responses.get(name), f"{domain_path}: {name}")
    return CrisisDesk(rules=rules, answers=answers, city_phone=city_phone(data_dir))


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
