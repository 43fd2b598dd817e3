"""One e5 encoding per message: the Rasa process hands the message's vector to the action server.

The NLU's crisis detector embeds every message (``query``) in the Rasa process; the action server's FAQ
ranking and meaning lookups embedded the same text again in its own process (bench/README.md, Load: "the
one duplicate left"). The Rasa side puts the vector it already has in the message's parse data under
:data:`PARSE_KEY` (:func:`pack`); Rasa's tracker carries the parse data to the action server, which checks
it (:func:`unpack`: same model, 384 float32 values, finite, unit length) and puts it in its encoder's
memory of recent queries for that very text, so its lookups find it there. Anything that does not pass
the check is ignored and the text is embedded as before.

The tracker stores drop the key before they persist a conversation (:mod:`bot.stores.anonymize`): an
embedding of a resident's words is not kept. Plain Python (no Rasa).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Mapping

import numpy as np

#: Parse-data key (Rasa keeps the keys a component or the adapter sets in ``tracker.latest_message``).
PARSE_KEY = "madoguchi_e5"
#: The only dtype handed over: what the encoder computes, so the FAQ and meaning scores are the same to
#: the last bit as when the action server embedded the text itself.
DTYPE = "float32"
#: A handed vector is refused unless its L2 norm is this close to 1 (the encoder's vectors are unit
#: length: a dot product is the cosine).
NORM_TOLERANCE = 1e-3


def pack(vector: np.ndarray, model_id: str) -> dict[str, Any]:
    """The parse-data value of a query vector: model id, dimension, dtype and the raw bytes in base64."""
    values = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(-1))
    return {
        "model": model_id,
        "dim": int(values.shape[0]),
        "dtype": DTYPE,
        "b64": base64.b64encode(values.tobytes()).decode("ascii"),
    }


def unpack(value: Any, model_id: str, dim: int) -> np.ndarray | None:
    """The vector of a :func:`pack` value, or ``None`` when it is absent, of another model or shape, or
    malformed (the caller then embeds the text itself)."""
    if not isinstance(value, Mapping):
        return None
    if value.get("model") != model_id or value.get("dim") != dim or value.get("dtype") != DTYPE:
        return None
    raw = value.get("b64")
    size = dim * np.dtype(DTYPE).itemsize
    if not isinstance(raw, str) or len(raw) != 4 * -(-size // 3):  # base64 of exactly ``size`` bytes
        return None
    try:
        data = base64.b64decode(raw.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(data) != size:
        return None
    vector = np.frombuffer(data, dtype=np.float32).copy()
    if not np.all(np.isfinite(vector)) or abs(float(np.linalg.norm(vector)) - 1.0) > NORM_TOLERANCE:
        return None
    return vector


def attach(parse_data: dict[str, Any], encoder: Any) -> bool:
    """Adds the message's vector to ``parse_data`` when the encoder's memory holds it (the NLU just
    embedded it); never embeds anything itself. Returns whether it was added."""
    text = parse_data.get("text")
    if not isinstance(text, str) or not text.strip() or text.startswith("/") or encoder is None:
        return False
    vector = encoder.recalled(text)
    if vector is None:
        return False
    parse_data[PARSE_KEY] = pack(vector, encoder.model_id)
    return True


def accept(latest_message: Any, encoder: Any) -> bool:
    """Puts the vector handed in ``latest_message`` (a tracker's parse data) into the encoder's memory
    for its text. Returns whether a valid vector was taken."""
    if not isinstance(latest_message, Mapping) or encoder is None:
        return False
    text = latest_message.get("text")
    if not isinstance(text, str) or not text.strip():
        return False
    vector = unpack(latest_message.get(PARSE_KEY), encoder.model_id, encoder.dim)
    if vector is None:
        return False
    encoder.remember(text, vector)
    return True
