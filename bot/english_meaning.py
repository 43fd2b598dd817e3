"""English questions understood by meaning: the nearest procedure of ``data/languages/en.yml``.

The language desk (:mod:`bot.language`) finds the procedure of an English question by its English alias
words; residents rarely use those words ("How do I throw away an old mattress?" is 粗大ごみ, "cancel my
National Health Insurance" is 脱退, not 加入). This index holds the e5 vectors (multilingual-e5-small, the
process's one encoder) of every procedure's English name, aliases and summary, embedded once and cached on
disk by content hash (:mod:`bot.understanding.cache`). A question's nearest procedure answers when its
cosine reaches :data:`SURE`. (No "did you mean" tier below it: English small talk reaches 0.888, so the
procedures just below :data:`SURE` are as often noise as help; the "not found" answer keeps its menu.)

Plain Python (no Rasa); the desk takes an :class:`EnglishMeaning` or none (aliases only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from bot.understanding.meaning import PROCEDURE, Meaning, build_index

#: Cosine (e5 ``query:`` vectors, English question vs English catalog texts) at which the nearest procedure
#: answers. Chosen on the tune halves of blind sets 5 and 7 (15 English questions, 11 of them procedure
#: questions): the right procedure was nearest for 10 of 11, at 0.890-0.950; the one wrong nearest was at
#: 0.867. Fifteen ordinary English messages written for this (greetings, small talk, "where is the nearest
#: train station") reached at most 0.888, one "what time is it" 0.953 (office hours; its alias also names it).
SURE = 0.89


def english_rows(pack: Any) -> list[tuple[str, str, str]]:
    """(kind, procedure id, text) for every English name, alias and summary of a language pack."""
    rows = []
    for pid, english in pack.procedures.items():
        texts = dict.fromkeys(t.strip() for t in (english.name, *english.aliases, english.summary) if t)
        rows += [(PROCEDURE, pid, t) for t in texts if t]
    return rows


class EnglishMeaning:
    """The nearest English procedure texts of a question."""

    def __init__(self, meaning: Meaning) -> None:
        self._meaning = meaning

    def nearest(self, text: str, top_k: int = 3) -> tuple[tuple[str, float], ...]:
        """(procedure id, cosine) of the nearest procedures, best first."""
        return self._meaning.neighbours(text, top_k=top_k).procedures

    def procedure(self, text: str) -> str | None:
        """The procedure the question means, when its cosine reaches :data:`SURE`; else None."""
        found = self.nearest(text)
        return found[0][0] if found and found[0][1] >= SURE else None


def build(pack: Any, encoder: Any, cache_dir: Path | None = None) -> EnglishMeaning:
    """Embeds the pack's English texts (cached by content hash under ``cache_dir``)."""
    rows: Sequence[tuple[str, str, str]] = english_rows(pack)
    return EnglishMeaning(Meaning(build_index(rows, encoder, cache_dir), encoder, cache_dir=cache_dir))


def desk_options(crisis: Any) -> dict[str, Any]:
    """What the language desk (:func:`bot.language.load_desk`) needs beside its data files, from the
    channel's crisis desk (:class:`bot.crisis.CrisisDesk`): its judge, and, when it judges meaning, the
    same encoder and the embedding cache for English questions by meaning."""
    from bot import settings

    encoder = getattr(crisis.detector, "encoder", None) if crisis.semantic else None
    cache = settings.load().embeddings_dir if encoder is not None else None
    return {"crisis_judge": crisis.judge, "encoder": encoder, "cache_dir": cache}
