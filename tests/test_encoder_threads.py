"""The encoder runs on ENCODER_THREADS OpenMP threads even when scikit-learn loaded libgomp first (as in
the Rasa and action servers), in every thread that embeds."""

from __future__ import annotations

import subprocess
import sys

from bot.understanding import encoder as enc

_PROBE = """
import ctypes, threading
import sklearn.linear_model  # loads the same libgomp as the engine, before it: as in the servers
from bot.understanding.encoder import E5Encoder
encoder = E5Encoder(threads=1)
lib = encoder._model()._lib
lib.omp_get_max_threads.restype = ctypes.c_int
counts = []
def embed():
    encoder.query("住民票の写しがほしい" + threading.current_thread().name)
    counts.append(lib.omp_get_max_threads())
embed()
worker = threading.Thread(target=embed, name="worker")
worker.start(); worker.join()
print(*counts)
"""


def test_the_thread_count_holds_after_scikit_learn_loaded_libgomp():
    enc.check_cpu()  # the encoder needs AVX2 (as every test of the real engine)
    probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split() == [str(enc.ENCODER_THREADS)] * 2
