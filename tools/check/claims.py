"""The claims the bounded checker establishes, and the spec documents' Claims sections (tooling).

Each :class:`Claim` names a spec document, what it asserts, the bounds and invariants of the run
that checks it, and whether that run must find every state good (``holds``) or find a
counterexample (``violated``: a bound of the protocol's assumptions is exceeded on purpose).
``run`` performs the runs; ``--write`` records what they did in ``results.json`` (states
explored, distinct states, depth, verdict, time and load), renders the ``## Claims`` section at
the end of each document from it, and writes the minimised counterexamples as vector data
(``tests/spec/<domain>/check_counterexamples.py``). Without ``--write`` it compares a new run with
the record: the numbers are deterministic (breadth-first levels, canonical keys), so any
difference means the spec's behaviour or the explorer changed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
SPEC_DIR = HERE.parent.parent / "spec"
TESTS_DIR = HERE.parent.parent / "tests" / "spec"
TEST_FAST = "tests/unit/test_check_claims.py::test_fast_claims_reproduce_their_results"
TEST_SLOW = "tests/unit/test_check_claims.py::test_slow_claims_reproduce_their_results"


@dataclass(frozen=True)
class Claim:
    id: str
    documents: tuple[str, ...]
    text: str
    model: str
    bounds: dict[str, Any]
    invariants: tuple[str, ...]
    expect: str = "holds"  # or "violated"
    search: str = "bfs"
    slow: bool = False
    vector: str | None = None  # name of the counterexample vector written for a violated claim
    options: dict[str, Any] = field(default_factory=dict)  # model options (hare: wire="hare4")

    @property
    def command(self) -> str:
        return command_line(self)

    @property
    def test(self) -> str:
        return f"{TEST_SLOW if self.slow else TEST_FAST}[{self.id}]"


HARE_SAFETY = ("agreement", "validity", "termination", "graded_gossip")

CLAIMS = [
    Claim("hare_small", ("hare",),
          "Agreement, validity, termination with an honest leader, and graded-gossip consistency hold for "
          "every schedule of 3 members with 1 byzantine (threshold 2) in one iteration",
          "hare", {"members": 3, "byzantine": 1, "iterations": 1}, HARE_SAFETY),
    Claim("hare_four", ("hare",),
          "The same for 4 members with 1 byzantine (threshold 3) in one iteration",
          "hare", {"members": 4, "byzantine": 1, "iterations": 1}, HARE_SAFETY, slow=True),
    Claim("hare_equivocation", ("hare",),
          "The same for 3 members with 1 byzantine that may also equivocate (send two values in one round, "
          "each with its own delivery)",
          "hare", {"members": 3, "byzantine": 1, "iterations": 1, "equivocation": 2}, HARE_SAFETY, slow=True),
    Claim("hare4_small", ("hare4",),
          "Hare 4 (preround IDs sent compact and reconstructed from local proposals) satisfies the Hare "
          "claims for every schedule of 3 members with 1 byzantine in one iteration",
          "hare", {"members": 3, "byzantine": 1, "iterations": 1}, HARE_SAFETY, options={"wire": "hare4"}),
    Claim("hare_byzantine_majority", ("hare",),
          "Beyond the threshold (2 byzantine of 4, honest count below the threshold) termination fails: "
          "a counterexample is found and written as a vector",
          "hare", {"members": 4, "byzantine": 2, "iterations": 1}, ("termination",), expect="violated",
          search="dfs", vector="byzantine_majority"),
    Claim("hare_asynchrony", ("hare",),
          "Without synchrony (an honest message late or lost) termination fails even within the byzantine "
          "bound: a counterexample is found and written as a vector",
          "hare", {"members": 3, "byzantine": 1, "iterations": 1, "synchrony": False}, ("termination",),
          expect="violated", search="dfs", vector="asynchrony"),
    Claim("hare_grades_asynchrony", ("hare",),
          "Graded-gossip consistency needs synchrony: with a message three rounds late at one honest node and on "
          "time at another, they grade it two apart (here 3 and 5): a counterexample is found and written as a vector",
          "hare", {"members": 2, "byzantine": 0, "iterations": 1, "synchrony": False, "late": 2}, ("graded_gossip",),
          expect="violated", vector="grades_asynchrony"),
    Claim("tortoise_small", ("tortoise",),
          "No verified layer flips, after every layer the honest nodes agree with verified = last - 1, and every "
          "opinion hash is "
          "the hash of the node's own votes (so equal votes give equal hashes), for every Hare output (block or "
          "empty), weak coin and byzantine ballot (as A, as B, against the previous block, none) over 3 layers: "
          "2 honest smeshers of weight 100, 1 byzantine of weight 20",
          "tortoise", {"layers": 3, "byzantine_weight": 20}, ("no_flip", "convergence", "opinions")),
    Claim("tortoise_heal", ("tortoise",),
          "After a one-layer partition between the two honest nodes heals, they converge (equal opinions, "
          "verified = last - 1) by layer 4, whatever the weak coins on each side",
          "tortoise", {"layers": 4, "byzantine": 0, "partition": (1, 1), "hare": ("block",)},
          ("no_flip", "convergence", "opinions")),
    Claim("tortoise_heal_hare", ("tortoise",),
          "The same by layer 5 when, besides the coins, each side's Hare output of every layer is its block or "
          "empty",
          "tortoise", {"layers": 5, "byzantine": 0, "partition": (1, 1)}, ("convergence", "opinions"), slow=True),
    Claim("tortoise_byzantine_heavy", ("tortoise",),
          "Beyond the threshold (byzantine weight 200 of 400) the honest nodes stop verifying: a "
          "counterexample is found and written as a vector",
          "tortoise", {"layers": 3, "byzantine_weight": 200}, ("convergence",), expect="violated",
          search="dfs", vector="byzantine_heavy"),
]


def command_line(claim: Claim) -> str:
    """The ``smspec check`` command that runs a claim's check."""
    flags = {"members": "--members", "byzantine": "--byzantine", "iterations": "--iterations",
             "layers": "--layers", "byzantine_weight": "--byzantine-weight", "honest": "--honest",
             "equivocation": "--equivocation", "proposals": "--proposals", "late": "--late"}
    parts = ["smspec", "check", claim.model]
    for name, value in claim.bounds.items():
        if name == "synchrony":
            if not value:
                parts.append("--no-synchrony")
        elif name == "partition":
            parts += ["--partition", f"{value[0]}:{value[1]}"]
        elif name == "hare":
            parts += ["--hare", ",".join(value)]
        else:
            parts += [flags[name], str(value)]
    if claim.options.get("wire") == "hare4":
        parts.append("--hare4")
    default = {"hare": HARE_SAFETY, "tortoise": ("no_flip", "convergence", "opinions")}[claim.model]
    if claim.invariants != default:
        parts += ["--invariants", ",".join(claim.invariants)]
    if claim.search != "bfs":
        parts += ["--search", claim.search]
    return " ".join(parts)


PRESET = "mainnet"  # the vectors' preset; the hare round logic has no preset parameter


def build(claim: Claim) -> tuple[Any, dict[str, Any]]:
    """The model of a claim and its bounds (as recorded), on the mainnet spec modules."""
    from smspec import spec

    if claim.model == "hare":
        from smspec.tools.check.hare import HareBounds, HareModel

        hare_bounds = HareBounds(**claim.bounds)
        model = HareModel(hare_bounds, hare=spec.load("hare", PRESET), invariants=claim.invariants,
                          hare4=spec.load("hare4", PRESET), **claim.options)
        return model, hare_bounds.as_dict()
    from smspec.tools.check.tortoise import TortoiseBounds, TortoiseModel

    tortoise_bounds = TortoiseBounds(**claim.bounds)
    return TortoiseModel(tortoise_bounds, tortoise=spec.load("tortoise", PRESET), invariants=claim.invariants), \
        tortoise_bounds.as_dict()


def check(claim: Claim) -> tuple[dict[str, Any], Any]:
    """Run a claim's check: its result record and (for a counterexample) the vector document."""
    from smspec.tools.check.explore import explore, search

    model, bounds = build(claim)
    result = search(model, bounds) if claim.search == "dfs" else explore(model, bounds)
    record = {"id": claim.id, "explored": result.explored, "distinct": result.distinct, "depth": result.depth,
              "complete": result.complete, "verdict": "violated" if result.counterexample else "holds",
              "violation": result.counterexample.violations[0] if result.counterexample else None,
              "seconds": round(result.seconds, 1),
              "load": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None}
    document = None
    if result.counterexample is not None:
        from smspec.tools.check.vectors import counterexample_document

        document = counterexample_document(model, result)
        document["name"] = claim.vector
        document["claim"] = claim.id
    return record, document


COMPARED = ("explored", "distinct", "depth", "complete", "verdict", "violation")


def load_results() -> dict[str, Any]:
    return json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}


def run(only: str | None = None, slow: bool = False, write: bool = False,
        progress: Callable[[str], None] | None = None) -> int:
    """Run the claims; compare with (or, with ``write``, record) the results. Exit status."""
    recorded = load_results()
    status = 0
    documents: dict[str, list[dict[str, Any]]] = {}
    for claim in CLAIMS:
        if (only is not None and claim.id != only) or (claim.slow and not slow and only is None):
            continue
        record, document = check(claim)
        if progress is not None:
            progress(f"{claim.id}: {record['verdict']}, {record['explored']} explored, {record['distinct']} distinct, "
                     f"depth {record['depth']}, {record['seconds']} s (load {record['load']})")
        if record["verdict"] != claim.expect:
            status = 1
            if progress is not None:
                progress(f"{claim.id}: expected {claim.expect}, got {record['verdict']}")
        if document is not None:
            documents.setdefault(claim.model, []).append(document)
        if write:
            recorded[claim.id] = record
        else:
            known = recorded.get(claim.id)
            differs = [k for k in COMPARED if known is None or known.get(k) != record[k]]
            if differs:
                status = 1
                if progress is not None:
                    progress(f"{claim.id}: differs from results.json in {', '.join(differs)}")
    if write:
        RESULTS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        for name in sorted({d for claim in CLAIMS for d in claim.documents}):
            path = SPEC_DIR / f"{name}.md"
            path.write_text(with_claims_section(path.read_text(encoding="utf-8"), name, recorded), encoding="utf-8")
        if only is None:
            for model, docs in documents.items():
                write_vectors(model, docs)
    return status


def render_row(claim: Claim, record: dict[str, Any] | None) -> str:
    if record is None:
        done = "not run yet"
    else:
        scope = "every state within the bounds" if record["complete"] else "stopped at the first violation"
        verdict = ("holds" if record["verdict"] == "holds" else
                   f"counterexample found ({record['violation'].split(':', 1)[0]})")
        if claim.vector:
            verdict += f", vector `{claim.model}/protocol/trace/check_{claim.vector}_*`" if claim.model == "hare" else \
                f", vector `tortoise/events/trace/check_{claim.vector}_*`"
        done = (f"{verdict}: {record['explored']:,} states explored, {record['distinct']:,} distinct, depth "
                f"{record['depth']} ({scope}; {record['seconds']} s at load {record['load']})")
    return f"| {claim.text} | `{claim.command}` (`{claim.test}`) | {done} |"


CLAIMS_HEADING = "## Bounded checking"
NEXT_HEADING = "## Claims"  # the document's Claims table (docs/developing.md) follows this section


def claims_section(document: str, recorded: dict[str, Any]) -> str:
    rows = [render_row(claim, recorded.get(claim.id)) for claim in CLAIMS if document in claim.documents]
    return "\n".join([
        CLAIMS_HEADING, "",
        "The claims below are checked by exhaustive bounded exploration of this document's own code "
        "(`smspec check`, docs/check.md); the numbers are those recorded by the last run "
        "(`smspec check claims --write`). The Claims section that follows lists them with the "
        "document's other claims.",
        "",
        "| Claim | Checked by | Checking done |",
        "| --- | --- | --- |",
        *rows, ""])


def with_claims_section(text: str, document: str, recorded: dict[str, Any]) -> str:
    """The document with its bounded-checking section replaced, or added just before its
    ``## Claims`` section (the last before the notes)."""
    section = claims_section(document, recorded) + "\n"
    marker = "\n" + CLAIMS_HEADING + "\n"
    index = text.find(marker)
    if index >= 0:
        end = text.find("\n## ", index + len(marker))
        return text[:index + 1] + section + (text[end + 1:] if end >= 0 else "")
    before = text.find("\n" + NEXT_HEADING + "\n")
    if before < 0:
        raise ValueError(f"spec/{document}.md has no {NEXT_HEADING} section to put the bounded checks before")
    return text[:before + 1] + section + text[before + 1:]


def write_vectors(model: str, documents: list[dict[str, Any]]) -> Path:
    """The counterexample data module read by the vector source of ``model``."""
    path = TESTS_DIR / model / "check_counterexamples.py"
    text = json.dumps(sorted(documents, key=lambda d: d["name"]), indent=1, sort_keys=True)
    path.write_text(
        f'"""Minimised counterexamples of `smspec check {model}`, as vector data (generated by\n'
        '`smspec check claims --write`; do not edit: tests/unit/test_check_claims.py regenerates and compares)."""\n\n'
        "import json\n\n"
        f'COUNTEREXAMPLES = json.loads(r"""\n{text}\n""")\n', encoding="utf-8")
    return path
