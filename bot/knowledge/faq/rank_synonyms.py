"""City word lists for FAQ search: words residents use beside the words the FAQ uses.

Files ``data/synonyms/*.yml`` hold ``groups:``, lists of words that should find each other (引っ越し /
転居 / 転入). :class:`SynonymMatcher` finds every listed word in a text (hiragana and katakana alike, after
:func:`bot.text.normalize`) and emits one ``g<group>`` token per hit; the ranking indexes those tokens as
the ``grp`` field. The groups are stored inside each saved index, so a saved index always searches with
the list it was built with.
"""

from __future__ import annotations

from pathlib import Path

from bot.text import normalize, to_katakana

#: Words shorter than this are ignored (one character matches inside too many words).
MIN_TERM_LENGTH = 2


class SynonymError(ValueError):
    """A synonym file is malformed (the message names the file and the group)."""


def _key(text: str) -> str:
    return to_katakana(normalize(text))


class SynonymMatcher:
    """Finds the listed words of synonym groups in texts."""

    def __init__(self, groups: list[list[str]]):
        self.groups = [list(g) for g in groups]
        term_groups: dict[str, list[int]] = {}
        for gid, group in enumerate(self.groups):
            for term in group:
                key = _key(term)
                if len(key) >= MIN_TERM_LENGTH and gid not in term_groups.setdefault(key, []):
                    term_groups[key].append(gid)
        self._term_groups = term_groups
        # Candidates by their first two characters, longest first: one dict look-up per text position.
        self._by_prefix: dict[str, list[str]] = {}
        for term in sorted(term_groups, key=lambda t: (-len(t), t)):
            self._by_prefix.setdefault(term[:MIN_TERM_LENGTH], []).append(term)

    def tokens(self, text: str, normalized: bool = False) -> list[str]:
        """One ``g<group id>`` token per listed word found in the text (longest match first).

        Args:
            text: the text.
            normalized: the text already went through :func:`bot.text.normalize` (saves time).
        """
        if not self._by_prefix or not text:
            return []
        key = to_katakana(text) if normalized else _key(text)
        out: list[str] = []
        i, n = 0, len(key)
        while i < n - 1:
            for term in self._by_prefix.get(key[i : i + MIN_TERM_LENGTH], ()):
                if key.startswith(term, i):
                    out.extend(f"g{gid}" for gid in self._term_groups[term])
                    i += len(term)
                    break
            else:
                i += 1
        return out


def load_groups(path: Path) -> list[list[str]]:
    """Reads the groups of one YAML file or of every ``*.yml`` file of a directory (sorted by name).

    A missing path gives no groups.

    Raises:
        SynonymError: a file is not ``{"groups": [[word, ...], ...]}`` of strings.
    """
    import yaml

    path = Path(path)
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path] if path.is_file() else []
    groups: list[list[str]] = []
    for file in files:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SynonymError(f"{file}: not valid YAML: {exc}") from exc
        raw = data.get("groups") if isinstance(data, dict) else None
        if not isinstance(raw, list):
            raise SynonymError(f"{file}: expected a top-level 'groups:' list")
        for n, group in enumerate(raw, 1):
            if not isinstance(group, list) or not all(isinstance(w, str) and w.strip() for w in group):
                raise SynonymError(f"{file}: group {n} must be a list of non-empty words")
            groups.append([w.strip() for w in group])
    return groups


def default_groups() -> list[list[str]]:
    """The groups of ``$MADOGUCHI_DATA/synonyms``."""
    from bot import settings

    return load_groups(settings.load().data_dir / "synonyms")
