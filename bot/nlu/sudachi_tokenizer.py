"""A Rasa 3.x tokenizer for Japanese built on SudachiPy.

Japanese has no spaces between words, so Rasa's whitespace tokenizer sees a whole sentence as one
word. This component splits text with SudachiPy after folding widths (ｼﾞｭｳﾐﾝﾋｮｳ, ０９０) and uses
Sudachi's normalized form as each token's lemma (引越し and 引っ越し, 手つづき and 手続き become one
feature for ``CountVectorsFeaturizer(use_lemma=True)``). Token offsets always refer to the ORIGINAL
message text, so entity spans stay correct even when normalization changes the length of the text.

An optional user dictionary (Sudachi's CSV source format: place and facility names of the city) is
compiled at training time and stored inside the trained model, so a model never depends on files
outside it.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import text as jtext

logger = logging.getLogger(__name__)

POS_TAG_KEY = "pos"
READING_KEY = "reading"
_USER_DIC_NAME = "user.dic"
# Parts of speech that carry no meaning for classification (punctuation, blanks).
_SKIPPED_POS = jtext.PUNCTUATION_POS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class SudachiTokenizer(Tokenizer):
    """Tokenizes Japanese text with SudachiPy; lemmas are Sudachi's normalized forms."""

    @staticmethod
    def supported_languages() -> List[str] | None:
        """Supported languages (see parent class for full docstring)."""
        return ["ja"]

    @staticmethod
    def required_packages() -> List[str]:
        """Any extra python dependencies required for this component to run."""
        return ["sudachipy", "sudachidict_core"]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Returns default config (see parent class for full docstring)."""
        return {
            # Sudachi split mode: "A" (short units), "B" (middle) or "C" (named entities kept whole).
            "split_mode": "C",
            # Sudachi system dictionary package: "core" (sudachidict_core), "small" or "full".
            "dictionary": "core",
            # Optional path to a user dictionary source (Sudachi CSV), relative to the working
            # directory at training time; compiled and stored inside the model.
            "user_dictionary": None,
            # Drop punctuation and blank tokens (they carry no meaning for intents).
            "skip_punctuation": True,
            # Flag to check whether to split intents
            "intent_tokenization_flag": False,
            # Symbol on which intent should be split
            "intent_split_symbol": "_",
            # Regular expression to detect tokens
            "token_pattern": None,
            # Symbol on which prefix should be split
            "prefix_separator_symbol": None,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        user_dictionary: Path | None = None,
    ) -> None:
        """Initializes the tokenizer (the Sudachi dictionary itself is loaded lazily)."""
        super().__init__(config)
        if config["split_mode"] not in jtext.SPLIT_MODES:
            raise ValueError(
                f"SudachiTokenizer: split_mode must be one of {jtext.SPLIT_MODES}, "
                f"got {config['split_mode']!r}"
            )
        self._model_storage = model_storage
        self._resource = resource
        self._user_dictionary = user_dictionary

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SudachiTokenizer:
        """Creates a new, untrained component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SudachiTokenizer:
        """Loads the tokenizer and the user dictionary stored inside the model."""
        user_dictionary = None
        if config.get("user_dictionary"):
            try:
                with model_storage.read_from(resource) as directory:
                    stored = Path(directory) / _USER_DIC_NAME
                    if stored.exists():
                        user_dictionary = cls._keep_for_process(stored)
            except ValueError:
                logger.warning("SudachiTokenizer: the model holds no user dictionary; using the system one.")
        return cls(config, model_storage, resource, user_dictionary)

    @staticmethod
    def _keep_for_process(stored: Path) -> Path:
        """Copies the user dictionary out of the model's unpacked folder for the process's lifetime."""
        import atexit
        import tempfile

        directory = Path(tempfile.mkdtemp(prefix="madoguchi-sudachi-"))
        atexit.register(shutil.rmtree, directory, True)
        target = directory / _USER_DIC_NAME
        shutil.copyfile(stored, target)
        return target

    def train(self, training_data: TrainingData) -> Resource:
        """Compiles the user dictionary (if configured) into the model storage."""
        source = self._config.get("user_dictionary")
        if source:
            source_path = Path(source)
            if not source_path.is_file():
                raise FileNotFoundError(f"SudachiTokenizer: user_dictionary {source!r} does not exist")
            with self._model_storage.write_to(self._resource) as directory:
                target = Path(directory) / _USER_DIC_NAME
                compile_user_dictionary(source_path, target, self._config["dictionary"])
                self._user_dictionary = self._keep_for_process(target)
                return self._resource

    def _sudachi(self):
        """The calling thread's tokenizer (:func:`bot.text.get_tokenizer` keeps one per thread: the NLU
        runs on several understanding threads, and a Sudachi tokenizer refuses a second thread)."""
        user_dicts = (str(self._user_dictionary),) if self._user_dictionary else ()
        return jtext.get_tokenizer(self._config["split_mode"], self._config["dictionary"], user_dicts)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        """Tokenizes the text of the provided attribute of the incoming message."""
        text = message.get(attribute)
        morphs = jtext.analyze(text, tokenizer=self._sudachi())
        tokens = [
            Token(
                m.surface,
                m.start,
                m.end,
                data={POS_TAG_KEY: "-".join(p for p in m.pos[:2] if p != "*"), READING_KEY: m.reading},
                lemma=m.lemma.lower(),
            )
            for m in morphs
            if not (self._config["skip_punctuation"] and m.pos and m.pos[0] in _SKIPPED_POS)
        ]
        if not tokens and text and text.strip():
            # Only symbols or emoji: keep one token so downstream featurizers see something.
            stripped = text.strip()
            start = text.index(stripped)
            tokens = [Token(stripped, start, start + len(stripped))]
        return self._apply_token_pattern(tokens)


def compile_user_dictionary(source: Path, target: Path, dictionary: str = "core") -> None:
    """Compiles a Sudachi user dictionary source (CSV) against the system dictionary.

    Args:
        source: the CSV source (Sudachi's user dictionary format).
        target: where to write the binary dictionary.
        dictionary: the system dictionary package name ("core", "small" or "full").
    """
    import importlib

    from sudachipy import sudachipy as native

    package = importlib.import_module(f"sudachidict_{dictionary}")
    system_dic = Path(package.__file__).parent / "resources" / "system.dic"
    native.build_user_dic(system_dic, [source], target, "madoguchi user dictionary")
