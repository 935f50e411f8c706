"""Fuzz corpora for client teams: per decoder, inputs that exercise distinct outcomes.

``smspec vectors corpus --out DIR`` writes, for every decoder of the wire formats (the SCALE
codecs, every wire type, Hare messages, Athena payloads, post-rs proof and metadata JSON ...):

* **seeds**: the bytes the conformance vectors give that decoder (valid and invalid);
* **boundary** encodings: truncations (every one of a short seed, 72 of a long one) and a
  one-byte extension of each seed, and for
  compact integers the values at each mode's edges written minimally and in longer modes;
* **Hypothesis** finds: inputs generated and mutated from the seeds by a derandomized Hypothesis
  search, kept when they reach an outcome (a result, or an error class and reason) not seen yet.

Each decoder's folder holds one file per input, named by the sha256 of its bytes (raw bytes,
what libFuzzer, cargo-fuzz and AFL read as a seed corpus), and ``index.json``: file → the spec's
outcome (``ok`` or ``Class/reason``) and where the input came from, so a client's fuzzer can also
assert the outcome. Output is deterministic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS_FORMAT = "smspec-corpus/1"
MAX_INPUT = 4096  # longest generated input (seeds keep their size)
COMPACT_EDGES = (0, 1, 63, 64, 16383, 16384, 2**30 - 1, 2**30, 2**32 - 1, 2**32, 2**56, 2**64 - 1)


@dataclass
class Decoder:
    name: str  # folder name, e.g. "scale/compact32", "atx/wire/activation_tx_v2"
    decode: Callable[[bytes], Any]
    seed_keys: tuple[str, ...]  # vector handlers whose `encoded`-like inputs seed it
    seed_field: str = "encoded"
    text: bool = False  # the input is UTF-8 text (JSON), read from a text field
    compact_bits: int = 0  # boundary compacts of this width
    seed_type: str = ""  # scale decoders: only the cases of this type description


@dataclass
class Corpus:
    decoder: Decoder
    inputs: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # data -> (outcome, origin)

    def add(self, data: bytes, origin: str) -> bool:
        """Keep `data` (a seed or boundary input always; a Hypothesis find only when its outcome is
        new); returns whether its outcome was new."""
        if data in self.inputs or (origin != "seed" and len(data) > MAX_INPUT):
            return False
        outcome = outcome_of(self.decoder, data)
        new = outcome not in {o for o, _ in self.inputs.values()}
        if new or origin != "hypothesis":
            self.inputs[data] = (outcome, origin)
        return new


def outcome_of(decoder: Decoder, data: bytes) -> str:
    from smspec.spec.errors import SpecError

    try:
        if decoder.text:
            decoder.decode(data.decode("utf-8"))  # type: ignore[arg-type]
        else:
            decoder.decode(data)
    except UnicodeDecodeError:
        return "not_utf8"
    except SpecError as e:
        return f"{type(e).__name__}/{e.reason}"
    return "ok"


def decoders() -> list[Decoder]:
    from smspec.conformance.handlers.wire import WIRE_TYPES
    from smspec.spec import load

    scale = load("scale", "mainnet")
    found = []
    for name in ("compact8", "compact16", "compact32", "compact64", "uint16", "uint32", "uint64", "bool"):
        codec = getattr(scale, name.capitalize() if name != "bool" else "Bool")
        handler = "scale/codec/uint" if name.startswith("uint") else f"scale/codec/{name}"
        found.append(Decoder(f"scale/{name}", lambda d, c=codec: scale.decode(d, c), (handler,),
                             compact_bits=int(name[7:]) if name.startswith("compact") else 0, seed_type=name))
    for wire in WIRE_TYPES:
        module = load(wire.module, "mainnet")
        codec = getattr(module, wire.type_name)
        found.append(Decoder(wire.key, lambda d, c=codec: scale.decode(d, c), (wire.key,)))
    hare = load("hare", "mainnet")
    hare4 = load("hare4", "mainnet")
    athena = load("athena", "mainnet")
    post = load("post", "mainnet")
    atx = load("atx", "mainnet")
    found += [
        Decoder("hare/decode_message", hare.decode_message, ("hare/message/decode", "hare/wire/message")),
        Decoder("hare4/decode_message4", hare4.decode_message4, ("hare4/wire/message4",)),
        Decoder("hare4/parse_response_frame", hare4.parse_response_frame, ("hare4/exchange/parse_response",),
                seed_field="frame"),
        Decoder("athena/decode_execution_payload", athena.decode_execution_payload, ("athena/wire/execution_payload",)),
        Decoder("atx/decode_atx_v2", atx.decode_atx_v2, ("atx/codec/decode_v2", "atx/wire/activation_tx_v2"),
                seed_field="blob"),
        Decoder("post/proof_from_json", post.proof_from_json, ("post/wire/proof_json",), seed_field="json", text=True),
        Decoder("post/metadata_from_json", post.metadata_from_json, ("post/metadata/parse",), seed_field="json", text=True),
    ]
    return found


def seeds_from_vectors(cases: list[Any], decoder: Decoder) -> list[bytes]:
    """The inputs the vectors (stored cases) give the decoder (sorted, unique)."""
    found = set()
    for case in cases:
        if case.key not in decoder.seed_keys:
            continue
        if decoder.seed_type and case.document["inputs"].get("type") != decoder.seed_type:
            continue
        # atx wire cases keep bytes under "encoded", codec cases under "blob"
        for name in (decoder.seed_field, "encoded", "blob"):
            value = case.document["inputs"].get(name)
            if isinstance(value, str):
                found.add(value.encode("utf-8") if decoder.text else bytes.fromhex(value[2:]) if value.startswith("0x")
                          else b"")
                break
    return sorted(found)


def boundary_inputs(decoder: Decoder, seeds: list[bytes]) -> list[bytes]:
    from smspec.spec import load

    scale = load("scale", "mainnet")
    out: list[bytes] = []
    for seed in seeds:
        if len(seed) <= 64:
            cuts = list(range(len(seed)))
        else:  # 64 cuts spread over the seed, and the last 8
            cuts = sorted({n * len(seed) // 64 for n in range(64)} | set(range(len(seed) - 8, len(seed))))
        out += [seed[:n] for n in cuts]
        out.append(seed + b"\x00")
    if decoder.compact_bits:
        for value in COMPACT_EDGES:
            if value < 2**64:
                out.append(scale.encode_compact(value, 64))
            for mode_bytes, mode in ((2, 1), (4, 2)):
                if value < 2 ** (8 * mode_bytes - 2):
                    out.append(((value << 2) | mode).to_bytes(mode_bytes, "little"))
            if value < 2**64:
                out.append(bytes([((8 - 4) << 2) | 3]) + value.to_bytes(8, "little"))
    return out


def explore(corpus: Corpus, seeds: list[bytes], max_examples: int) -> None:
    """A derandomized Hypothesis search over mutated seeds and fresh bytes."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    base = seeds or [b""]

    def mutate(draw: Any) -> bytes:
        data = bytearray(draw(st.sampled_from(base)))
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(("flip", "insert", "delete", "splice", "byte")))
            position = draw(st.integers(0, len(data)))
            if kind == "flip" and data:
                data[min(position, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
            elif kind == "insert":
                data[position:position] = draw(st.binary(min_size=1, max_size=8))
            elif kind == "delete" and data:
                del data[position:position + draw(st.integers(1, 8))]
            elif kind == "splice":
                other = draw(st.sampled_from(base))
                data[position:] = other[draw(st.integers(0, len(other))):]
            elif kind == "byte" and data:
                data[min(position, len(data) - 1)] = draw(st.sampled_from((0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0xFC,
                                                                             0xFD, 0xFE, 0xFF)))
        return bytes(data[:MAX_INPUT])

    inputs = st.one_of(st.composite(lambda draw: mutate(draw))(), st.binary(max_size=64))

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(inputs)
    def search(data: bytes) -> None:
        corpus.add(data, "hypothesis")

    search()


def build(decoder: Decoder, cases: list[Any], max_examples: int) -> Corpus:
    """The corpus of one decoder, seeded by the stored vector cases."""
    corpus = Corpus(decoder)
    seeds = seeds_from_vectors(cases, decoder)
    for seed in seeds:
        corpus.add(seed, "seed")
    for data in boundary_inputs(decoder, seeds):
        corpus.add(data, "boundary")
    if max_examples:
        explore(corpus, seeds, max_examples)
    return corpus


def write(corpus: Corpus, out: Path) -> Path:
    folder = out / corpus.decoder.name
    folder.mkdir(parents=True, exist_ok=True)
    index: dict[str, dict[str, str]] = {}
    for data, (outcome, origin) in sorted(corpus.inputs.items()):
        name = hashlib.sha256(data).hexdigest()[:16] + ".bin"
        (folder / name).write_bytes(data)
        index[name] = {"outcome": outcome, "origin": origin}
    (folder / "index.json").write_text(json.dumps({"format": CORPUS_FORMAT, "decoder": corpus.decoder.name,
                                                   "inputs": dict(sorted(index.items()))}, indent=1, sort_keys=True)
                                       + "\n")
    return folder
