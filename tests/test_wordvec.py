"""The word vector table: spaCy's hash, reading a model wheel, our table file, and the real table."""

from __future__ import annotations

import io
import json
import zipfile

import msgpack
import numpy as np
import pytest

from bot import settings
from bot.wordvec import fetch, table
from bot.wordvec.spacy_vectors import VectorSourceError, read_wheel, spacy_hash
from bot.wordvec.table import WordVectors


def test_spacy_hash_matches_spacy():
    # spaCy's documentation: nlp.vocab.strings["coffee"] == 3197928453018144401
    assert spacy_hash("coffee") == 3197928453018144401
    # every length class of MurmurHash64A's tail (0..7 bytes) and multi-block Japanese text is distinct
    words = ["", "a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "住", "住民票", "マイナンバーカード"]
    assert len({spacy_hash(w) for w in words}) == len(words)
    assert all(0 <= spacy_hash(w) < 2**64 for w in words)


def make_wheel(path, words: dict[str, list[float]], package="ja_toy/ja_toy-1.0.0"):
    """A wheel laid out like a spaCy model package, with a vector table of ``words``."""
    distinct = []
    key2row = {}
    for word, vec in words.items():
        if vec not in distinct:
            distinct.append(vec)
        key2row[spacy_hash(word)] = distinct.index(vec)
    buf = io.BytesIO()
    np.save(buf, np.array(distinct, dtype=np.float32), allow_pickle=False)
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{package}/vocab/key2row", msgpack.packb(key2row))
        wheel.writestr(f"{package}/vocab/vectors", buf.getvalue())
        wheel.writestr(f"{package}/meta.json", json.dumps({"name": "toy"}))
    return path


PROBE = {w: [float(i + 1), 1.0, 0.0] for i, w in enumerate(fetch.PROBE_WORDS)}


def test_wheel_to_table_round_trip(tmp_path):
    words = {**PROBE, "保育園": [0.0, 3.0, 4.0], "保育所": [0.0, 3.0, 4.0]}  # two words share a vector
    wheel = make_wheel(tmp_path / "toy.whl", words)
    spacy = read_wheel(wheel)
    assert spacy.package == "ja_toy/ja_toy-1.0.0" and len(spacy.keys) == len(words)
    assert len(spacy.vectors) == len(words) - 1
    out = tmp_path / "table.npz"
    fetch.convert(wheel, out, "toy source")
    loaded = WordVectors.load(out)
    assert loaded.source == "toy source" and loaded.dims == 3
    assert np.allclose(loaded.vector("保育園"), [0.0, 0.6, 0.8], atol=1e-3)  # unit length, float16 on disk
    assert loaded.row("保育園") == loaded.row("保育所")
    assert "天気" not in loaded and loaded.vector("天気") is None
    assert fetch.is_current(out, "toy source") and not fetch.is_current(out, "other source")


def test_conversion_rejects_a_table_that_knows_no_everyday_word(tmp_path):
    wheel = make_wheel(tmp_path / "toy.whl", {"apple": [1.0, 0.0], "pear": [0.0, 1.0]})
    with pytest.raises(VectorSourceError, match="knows only"):
        fetch.convert(wheel, tmp_path / "table.npz", "toy")
    assert not (tmp_path / "table.npz").exists()


def test_reading_rejects_what_is_not_a_model_wheel(tmp_path):
    with zipfile.ZipFile(tmp_path / "plain.whl", "w") as wheel:
        wheel.writestr("pkg/__init__.py", "")
    with pytest.raises(VectorSourceError, match="key2row"):
        read_wheel(tmp_path / "plain.whl")
    broken = tmp_path / "broken.whl"
    with zipfile.ZipFile(broken, "w") as wheel:
        wheel.writestr("p/vocab/key2row", msgpack.packb({spacy_hash("a"): 5}))
        buf = io.BytesIO()
        np.save(buf, np.ones((2, 3), dtype=np.float32))
        wheel.writestr("p/vocab/vectors", buf.getvalue())
    with pytest.raises(VectorSourceError, match="outside"):
        read_wheel(broken)


def test_table_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        WordVectors.load(tmp_path / "none.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a word vector table"):
        WordVectors.load(tmp_path / "other.npz")
    with pytest.raises(ValueError):
        WordVectors.from_words({})


def test_weighted_mean_skips_unknown_words():
    vectors = WordVectors.from_words({"a": [1.0, 0.0], "b": [0.0, 2.0]})
    assert np.allclose(vectors.mean(["a", "b", "zzz"]), [0.5, 0.5])
    assert np.allclose(vectors.mean(["a", "b"], {"a": 3.0}, default=1.0), [0.75, 0.25])
    assert np.allclose(vectors.mean(["a", "a", "b"]), [2 / 3, 1 / 3])  # each occurrence counts
    assert vectors.mean(["zzz"]) is None and vectors.mean([]) is None


def test_load_default_is_cached_and_tolerates_a_missing_file(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(table, "_loaded", {})
    with caplog.at_level("WARNING"):
        assert table.load_default(tmp_path / "missing.npz") is None
    assert "make wordvec" in caplog.text
    good = tmp_path / "t.npz"
    WordVectors.from_words({"住民票": [1.0, 0.0]}, source="s").save(good)
    first = table.load_default(good)
    assert first is not None and table.load_default(good) is first


def test_the_pin_names_the_table_file():
    package, version = fetch.pinned()
    assert package == "ja-ginza" and version in settings.WORDVEC_FILE
    assert "--hash=sha256:" in fetch.REQUIREMENTS.read_text(encoding="utf-8")
    assert fetch.source_name() == f"chiVe via ja-ginza {version}"


def test_the_real_table_is_there_and_means_something():
    """`make test` prepares the table (`make wordvec`); the FAQ ranking depends on it."""
    path = settings.load().wordvec_path
    assert path.is_file(), f"no word vector table at {path}: run `make wordvec`"
    real = WordVectors.load(path)
    assert real.source == fetch.source_name() and real.dims == 300 and len(real.keys) > 400_000

    def cos(a: str, b: str) -> float:
        return float(real.vector(a) @ real.vector(b))

    assert cos("保育園", "保育所") > 0.8 > cos("保育園", "年金")
    assert cos("引っ越し", "転居") > cos("引っ越し", "印鑑")
    assert cos("ごみ", "廃棄") > cos("ごみ", "出生")
