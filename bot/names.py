"""Self-introductions: where a text gives the writer's own name (「山田です」「私は山田」「山田太郎、090-…」).

One home for the cues, used both by the callback form (which takes the name so it is not asked again) and
by :func:`bot.privacy.mask` (which must hide every name the form would take). A name is a run of Sudachi
人名 words (姓, 名) with a cue right after it (です, と申します, a phone number after a comma) or right
before it (名前は, 私は); 「高橋さんに折り返して」 names someone else and is not an introduction.
"""

from __future__ import annotations

import re

from bot.text import analyze, is_person_name

#: After the name: 「山田です」「佐藤と申します」「鈴木といいます」.
INTRO_AFTER = re.compile(r"\s*(?:です|でございます|と申します|ともうします|といいます|と言います)")
#: Before the name: 「名前は山田」「私は山田」.
INTRO_BEFORE = re.compile(r"(?:お?名前は|なまえは|氏名は|私は|わたしは|わたくしは|僕は|ぼくは|俺は)[\s、]*$")
#: After the name, a phone number: 「山田太郎、090-…」.
NUMBER_AFTER = re.compile(r"\s*[、,]\s*[0-9０-９(（+＋]")
#: Cheap test before Sudachi runs: text without any cue cannot introduce anyone.
_ANY_CUE = re.compile(
    r"です|でございます|申します|もうします|いいます|言います|名前は|なまえは|氏名は|"
    r"私は|わたしは|わたくしは|僕は|ぼくは|俺は|[、,]\s*[0-9０-９(（+＋]"
)


def _name_runs(text: str) -> list[tuple[int, int]]:
    runs: list[list[int]] = []
    for m in analyze(text):
        if is_person_name(m):
            if runs and runs[-1][1] == m.start:
                runs[-1][1] = m.end
            else:
                runs.append([m.start, m.end])
    return [(start, end) for start, end in runs]


def introduced_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets into ``text`` of every name the writer introduces themself with."""
    if not text or not _ANY_CUE.search(text):
        return []
    spans = []
    for start, end in _name_runs(text):
        before, after = text[:start], text[end:]
        if INTRO_AFTER.match(after) or NUMBER_AFTER.match(after) or INTRO_BEFORE.search(before):
            spans.append((start, end))
    return spans
