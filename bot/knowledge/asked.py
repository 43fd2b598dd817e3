"""What the resident asks to do (入る / やめる / なくした / 暗証番号 …) and the sibling procedure it picks.

Data: ``data/asked_actions.yml`` (staff edit it; nothing of it is in Python):

- ``actions:`` an action name and the words that say it. A word is found in a message by its spelling
  (払えません), or, when it is made of content words only (無くす, 入る, 紛失), by the dictionary forms
  of the message's words compared by reading, whatever the inflection or kana/kanji spelling
  (なくしました and 失くしてしまった both say 無くす, ``lost``);
- ``groups:`` sibling procedures (``members``) and, in ``choose``, which procedure answers each action,
  the one said last winning when the message says more than one (the asked action ends a Japanese
  sentence: 受け取ったけど暗証番号を忘れた is ``pin``; 会社を辞めて保険がなくなった、国保に入りたい is
  ``join``), and of two said at the same place the first listed;
- ``other_objects:`` nouns whose action is not a procedure's: an action said of one of them (会社を辞めて,
  仕事がなくなった, 会社に入った) is the resident's situation, not what they ask to do with the procedure
  (会社を辞めて社保が切れたので、健康保険に切り替えたい asks to join, not to leave).

:meth:`AskedActions.choose` turns a candidate procedure into the sibling the words ask for
(マイナンバーカードがなくなった: candidate ``mynumber_apply`` → ``mynumber_lost``). Plain Python.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from bot.text import FUNCTION_POS, analyze, lemma_reading, normalize, spaced_kana_words, to_katakana

ACTIONS_FILE = "asked_actions.yml"


class AskedActionsError(ValueError):
    """The actions file is malformed; the message lists every problem as ``file: where: what``."""


@dataclass(frozen=True)
class SiblingGroup:
    """Procedures told apart by the action asked."""

    name: str
    members: tuple[str, ...]
    #: (action, procedure id), in order of priority.
    choose: tuple[tuple[str, str], ...]
    #: the things the group is about (保険証, 資格確認書): a group with objects chooses only when the
    #: message names one of them, and then also when no procedure was named (see
    #: :meth:`AskedActions.choose_by_object`). Kept as :func:`_spelled` (the form they are looked for in).
    objects: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class AskedActions:
    """The action vocabulary and the sibling groups."""

    words: Mapping[str, tuple[str, ...]]
    groups: tuple[SiblingGroup, ...]
    #: nouns (normalized) whose action is the resident's situation, not the procedure's (see the module).
    other_objects: frozenset[str] = frozenset()

    @functools.cached_property
    def _forms(self) -> dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]]:
        """Per action: (word, its normalized spelling, its dictionary-form keys or () if it has
        function words)."""
        return {
            action: tuple((w, normalize(w).replace(" ", ""), _content_keys(w)) for w in words)
            for action, words in self.words.items()
        }

    @functools.cached_property
    def _readings(self) -> dict[str, str]:
        """Each word's katakana reading (払えません: ハラエマセン), looked for in spaced kana."""
        return {
            w: "".join(m.reading for m in analyze(w, "A")) for words in self.words.values() for w in words
        }

    def found(self, text: str) -> dict[str, str]:
        """The actions the text says, each with the word that said it."""
        return {action: word for action, (_end, word) in self.found_at(text).items()}

    def found_at(self, text: str) -> dict[str, tuple[int, str]]:
        """The actions the text says, each with where its last mention ends (an offset in the
        normalized text) and the word that said it."""
        if not text or not self.words:
            return {}
        spelled = normalize(text)
        morphs = analyze(spelled, "A")
        content = [m for m in morphs if m.pos and m.pos[0] not in FUNCTION_POS]
        keys = tuple(_lemma_key(m.lemma) for m in content)
        starts = tuple(m.start for m in content)
        ends = tuple(m.end for m in content)
        skipped = _said_of_other_objects(morphs, self.other_objects)
        # written with spaces between the words (とりに いきますか): the spellings are looked for without
        # them too, each found end given back as an offset in the spelled text
        where = [i for i, c in enumerate(spelled) if c != " "]
        compact = "".join(spelled[i] for i in where) if len(where) < len(spelled) else ""
        compact_skipped = frozenset(where.index(o) for o in skipped if o in where) if compact else skipped
        spaced = _spaced_reading(spelled, where) if compact else None
        out: dict[str, tuple[int, str]] = {}
        for action, forms in self._forms.items():
            for word, norm, word_keys in forms:
                end = max(
                    _spelled_end(spelled, norm, skipped), _keys_end(keys, starts, ends, word_keys, skipped)
                )
                if compact:
                    at = _spelled_end(compact, norm.replace(" ", ""), compact_skipped)
                    end = max(end, where[at - 1] + 1 if at > 0 else -1)
                if spaced is not None:
                    at = _reading_end(spaced, self._readings.get(word, ""), compact_skipped)
                    end = max(end, where[at - 1] + 1 if at > 0 else -1)
                if end >= 0 and end > out.get(action, (-1, ""))[0]:
                    out[action] = (end, word)
        return out

    def group_of(self, procedure_id: str) -> SiblingGroup | None:
        """The first group without objects a procedure is a member of, or None."""
        return next((g for g in self.groups if procedure_id in g.members and not g.objects), None)

    def choose(self, procedure_id: str, text: str) -> tuple[str, str] | None:
        """``(procedure id, action)`` the words ask for among the candidate's siblings; None when the
        candidate is in no group or the text says none of its groups' actions. The candidate's groups are
        its group without objects and those whose object the text names (保険証がなくなった: the
        保険証 group's ``gone``); the action said last wins (then the group listed first, then its
        ``choose`` order)."""
        spelled = _spelled(text)
        groups = [
            g
            for g in self.groups
            if procedure_id in g.members and (not g.objects or _names_object(g, spelled))
        ]
        return self._chosen(groups, text)

    def choose_by_object(self, text: str) -> tuple[str, str] | None:
        """``(procedure id, action)`` when no procedure was named: a group whose object the text names
        (保険書がボロボロ: the 保険証 group, a typo listed among its objects) and one of whose actions it
        says; None otherwise."""
        spelled = _spelled(text)
        return self._chosen([g for g in self.groups if g.objects and _names_object(g, spelled)], text)

    def _chosen(self, groups: list[SiblingGroup], text: str) -> tuple[str, str] | None:
        if not groups:
            return None
        said = self.found_at(text)
        ranked = [
            (said[a][0], -g_rank, -rank, a, target)
            for g_rank, group in enumerate(groups)
            for rank, (a, target) in enumerate(group.choose)
            if a in said
        ]
        if not ranked:
            return None
        *_order, action, target = max(ranked)
        return target, action


#: Shortest word reading looked for in spaced kana (ハラエマセン, ブンカツ; not ゼン or ニ).
MIN_SPACED_READING = 3


def _spaced_reading(spelled: str, where: list[int]) -> tuple[str, frozenset[int]] | None:
    """For a message written in kana with spaces between its words (じゅうみんぜい が はらえません): its
    katakana without the spaces and the offsets (in it) where each spaced word starts; None otherwise.
    A word of the vocabulary is then also found by its reading (払えません: ハラエマセン) starting at a
    spaced word, as the resident wrote it in kana."""
    if not spaced_kana_words(spelled):
        return None
    compact = "".join(spelled[i] for i in where)
    starts = frozenset(n for n, i in enumerate(where) if i == 0 or spelled[i - 1] == " ")
    return to_katakana(compact), starts


def _reading_end(spaced: tuple[str, frozenset[int]], kana: str, skipped: frozenset[int]) -> int:
    """Where the last occurrence of a reading that starts at a spaced word ends in the spaced reading
    (-1 when absent or too short)."""
    text, starts = spaced
    if len(kana) < MIN_SPACED_READING:
        return -1
    found = [at + len(kana) for at in starts if text.startswith(kana, at) and at not in skipped]
    return max(found, default=-1)


def _spelled(text: str) -> str:
    """``text`` as objects are looked for in it: normalized, without spaces (ほけん しょう)."""
    return normalize(text).replace(" ", "")


def _names_object(group: SiblingGroup, spelled: str) -> bool:
    """Whether the message (as :func:`_spelled`) names one of the group's objects."""
    return any(o in spelled for o in group.objects)


def _lemma_key(lemma: str) -> str:
    """A dictionary form as its reading (なくす and 無くす are both ナクス)."""
    return lemma_reading(lemma)


def _content_keys(word: str) -> tuple[str, ...]:
    """The keys of a word made of content words only; () when it has particles or auxiliaries (then
    only its spelling is looked for: 払えない must not match 払いたい)."""
    morphs = analyze(word, "A")
    if not morphs or any(m.pos and m.pos[0] in FUNCTION_POS for m in morphs):
        return ()
    return tuple(_lemma_key(m.lemma) for m in morphs)


#: Particles that join a noun to the action said of it (会社を辞める, 仕事がなくなる, 会社に入る).
_OBJECT_PARTICLES = frozenset({"を", "が", "は", "も", "に"})


def _said_of_other_objects(morphs: list, other_objects: frozenset[str]) -> frozenset[int]:
    """Offsets where a word said of one of ``other_objects`` starts: 辞め in 会社を辞めて, and 入る in
    会社の健康保険に入る (the noun phrase before the particle, nouns joined by の, names one)."""
    if not other_objects:
        return frozenset()
    out = set()
    for i in range(1, len(morphs) - 1):
        particle = morphs[i]
        if not (particle.pos and particle.pos[0] == "助詞" and particle.surface in _OBJECT_PARTICLES):
            continue
        if any(
            _is_noun(m) and (m.surface in other_objects or m.lemma in other_objects)
            for m in _phrase(morphs, i)
        ):
            out.add(morphs[i + 1].start)
    return frozenset(out)


def _is_noun(morph) -> bool:
    return bool(morph.pos) and morph.pos[0] == "名詞"


def _phrase(morphs: list, end: int) -> list:
    """The noun phrase ending just before ``morphs[end]``: nouns, joined by の (会社の健康保険)."""
    out: list = []
    j = end - 1
    while j >= 0 and (
        _is_noun(morphs[j]) or (morphs[j].surface == "の" and out and j > 0 and _is_noun(morphs[j - 1]))
    ):
        if _is_noun(morphs[j]):
            out.append(morphs[j])
        j -= 1
    return out


def _spelled_end(spelled: str, norm: str, skipped: frozenset[int] = frozenset()) -> int:
    """Where the last occurrence of a word's spelling ends, not counting those starting at ``skipped``
    (-1 when absent)."""
    at = spelled.rfind(norm) if norm else -1
    while at >= 0 and at in skipped:
        at = spelled.rfind(norm, 0, at + len(norm) - 1) if at > 0 else -1
    return at + len(norm) if at >= 0 else -1


def _keys_end(
    keys: tuple[str, ...],
    starts: tuple[int, ...],
    ends: tuple[int, ...],
    part: tuple[str, ...],
    skipped: frozenset[int] = frozenset(),
) -> int:
    """Where the last run of ``part`` in ``keys`` ends, not counting runs starting at ``skipped`` (-1 when
    absent or ``part`` is empty)."""
    n = len(part)
    found = [
        ends[i + n - 1]
        for i in range(len(keys) - n + 1)
        if n and keys[i : i + n] == part and starts[i] not in skipped
    ]
    return found[-1] if found else -1


def load_asked_actions(data_dir: Path, procedure_ids: Iterable[str] | None = None) -> AskedActions:
    """Reads ``data/asked_actions.yml`` (an empty vocabulary when the file is absent).

    Args:
        procedure_ids: the catalog's ids; a group naming another id is an error.

    Raises:
        AskedActionsError: listing every problem.
    """
    path = Path(data_dir) / ACTIONS_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return AskedActions({}, ())
    except yaml.YAMLError as error:
        raise AskedActionsError(f"{path}: not valid YAML: {error}") from error
    return parse_asked_actions(raw, str(path), procedure_ids)


def parse_asked_actions(raw, source: str, procedure_ids: Iterable[str] | None = None) -> AskedActions:
    """Builds :class:`AskedActions` from the file's plain data; raises :class:`AskedActionsError`."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise AskedActionsError(f"{source}: expected a mapping with 'actions' and 'groups'")
    words = _parse_words(raw.get("actions"), problems)
    known = set(procedure_ids) if procedure_ids is not None else None
    groups = _parse_groups(raw.get("groups"), set(words), known, problems)
    others = raw.get("other_objects") or []
    if not isinstance(others, list) or not all(isinstance(w, str) and w.strip() for w in others):
        problems.append("other_objects: expected a list of nouns")
        others = []
    if problems:
        raise AskedActionsError("\n".join(f"{source}: {p}" for p in problems))
    return AskedActions(words, groups, frozenset(normalize(w).replace(" ", "") for w in others))


def _parse_words(raw, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        problems.append("actions: expected a mapping of action names to lists of words")
        return {}
    words = {}
    for action, items in raw.items():
        if (
            not isinstance(items, list)
            or not all(isinstance(w, str) and w.strip() for w in items)
            or not items
        ):
            problems.append(f"actions: {action}: expected a non-empty list of words")
            continue
        words[str(action)] = tuple(w.strip() for w in items)
    return words


def _parse_groups(raw, actions: set[str], known: set[str] | None, problems: list[str]):
    if not isinstance(raw, list):
        problems.append("groups: expected a list")
        return ()
    groups = []
    for n, item in enumerate(raw, 1):
        where = f"groups: {n}"
        if not isinstance(item, dict) or not isinstance(item.get("choose"), dict):
            problems.append(f"{where}: expected name, members and a 'choose' mapping")
            continue
        members = tuple(str(m) for m in item.get("members") or [])
        choose = tuple((str(a), str(p)) for a, p in item["choose"].items())
        objects = item.get("objects") or []
        if not isinstance(objects, list) or not all(isinstance(o, str) and o.strip() for o in objects):
            problems.append(f"{where}: objects: expected a list of words")
            objects = []
        for action, _pid in choose:
            if action not in actions:
                problems.append(f"{where}: choose: {action}: not an action of 'actions'")
        for pid in sorted({*members, *(p for _, p in choose)}):
            if known is not None and pid not in known:
                problems.append(f"{where}: {pid}: no such procedure in the catalog")
        spelled = tuple(_spelled(o.strip()) for o in objects)
        groups.append(SiblingGroup(str(item.get("name") or n), members, choose, spelled))
    return tuple(groups)
