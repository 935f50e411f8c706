"""A level-synchronous, exhaustive explorer of a bounded transition system (tooling).

A *model* (``smspec.tools.check.hare``, ``smspec.tools.check.tortoise``) drives the spec's own
functions; this module only enumerates. The contract of a model:

* ``initial()`` yields ``(choice, state)`` pairs: the nondeterministic starting configurations;
* ``successors(state)`` yields ``(choice, state)`` pairs, one per nondeterministic choice of the
  environment (deliveries, losses, byzantine messages, ...) for one synchronous step; a state
  without successors is final;
* ``key(state)`` is the canonical encoding of a state up to the model's symmetries (bytes);
  two states with the same key have the same future up to renaming, so only one is expanded;
* ``violations(state)`` lists the invariants broken in a state (each a short string).

Every model's step counter is part of its state (synchronous rounds, or layers), so a state can
only recur within one level: the visited set is kept per level (breadth first), which bounds the
memory to two levels of keys and lets a level be split across processes. Keys are stored as
128-bit BLAKE2b digests of the canonical encoding (hash compaction; a collision, which would
hide a state, has probability about n^2 / 2^129 for n states).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class Model(Protocol):
    name: str

    def initial(self) -> Iterable[tuple[Any, Any]]: ...

    def successors(self, state: Any) -> Iterable[tuple[Any, Any]]: ...

    def key(self, state: Any) -> bytes: ...

    def violations(self, state: Any) -> list[str]: ...


@dataclass
class Counterexample:
    """A path from an initial state to a state breaking an invariant."""

    violations: list[str]
    schedule: list[Any]  # the choices, the first one picks the initial state
    depth: int


@dataclass
class Result:
    """What one exploration did (the numbers of the report)."""

    model: str
    bounds: dict[str, Any]
    explored: int = 0  # transitions taken (successor states generated, initial ones included)
    distinct: int = 0  # distinct canonical states
    depth: int = 0  # levels (synchronous steps) reached
    final: int = 0  # distinct states without successors
    seconds: float = 0.0
    workers: int = 1
    engine: str = "local"
    complete: bool = True  # False when stopped at a counterexample or at max_states
    counterexample: Counterexample | None = None
    levels: list[int] = field(default_factory=list)  # distinct states per level

    def summary(self) -> dict[str, Any]:
        return {"model": self.model, "bounds": self.bounds, "explored": self.explored,
                "distinct": self.distinct, "depth": self.depth, "final": self.final,
                "complete": self.complete, "violated": self.counterexample is not None,
                "violations": [] if self.counterexample is None else self.counterexample.violations,
                "seconds": round(self.seconds, 2), "workers": self.workers, "engine": self.engine}


def violations_along(model: Any, states: list[Any]) -> list[str]:
    """Every invariant violation of any state of a path, sorted (a replay's verdict)."""
    broken: set[str] = set()
    for state in states:
        broken.update(model.violations(state))
    return sorted(broken)


def digest(encoding: bytes) -> bytes:
    """The 16-byte key under which a canonical state encoding is remembered."""
    return hashlib.blake2b(encoding, digest_size=16).digest()


@dataclass
class Expanded:
    """One successor computed by a worker: its key, parent position, choice, state, violations."""

    key: bytes
    parent: int
    choice: Any
    state: Any
    violations: list[str]


def expand_chunk(model: Any, chunk: list[tuple[int, Any]], stop: bool = False) -> tuple[list[Expanded], int, list[int]]:
    """Expand frontier states (position, state): the successors (deduplicated within the chunk),
    how many were generated, and the positions of the states that had none (final states).
    With ``stop``, return at the first successor that breaks an invariant."""
    out: list[Expanded] = []
    seen: set[bytes] = set()
    generated = 0
    finals = []
    for position, state in chunk:
        before = generated
        for choice, child in model.successors(state):
            generated += 1
            key = digest(model.key(child))
            if key in seen:
                continue
            seen.add(key)
            out.append(Expanded(key, position, choice, child, model.violations(child)))
            if stop and out[-1].violations:
                return out, generated, finals
        if generated == before:
            finals.append(position)
    return out, generated, finals


class Engine(Protocol):
    workers: int
    name: str

    def map(self, function: Callable[..., Any], model: Any, chunks: list[Any], stop: bool) -> Iterator[Any]: ...

    def close(self) -> None: ...


class LocalEngine:
    """Expands in this process."""

    name = "local"
    workers = 1

    def map(self, function: Callable[..., Any], model: Any, chunks: list[Any], stop: bool) -> Iterator[Any]:
        for chunk in chunks:
            yield function(model, chunk, stop)

    def close(self) -> None:
        pass


def _pool_expand(args: tuple[Any, list[tuple[int, Any]], bool]) -> tuple[list[Expanded], int, list[int]]:
    model, chunk, stop = args
    return expand_chunk(model, chunk, stop)


class ProcessEngine:
    """Expands chunks of a level in a ``multiprocessing`` pool (fork where available)."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.workers = workers
        self.pool = context.Pool(workers)

    def map(self, function: Callable[..., Any], model: Any, chunks: list[Any], stop: bool) -> Iterator[Any]:
        yield from self.pool.imap(_pool_expand, [(model, chunk, stop) for chunk in chunks])

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


class DaskEngine:
    """Expands chunks on a Dask cluster (``address``) or a local one of ``workers`` processes."""

    name = "dask"

    def __init__(self, workers: int, address: str | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise RuntimeError("the dask engine needs dask.distributed: pip install 'smspec[distributed]'") from None
        self.cluster = None
        if address:
            self.client = Client(address)
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        self.workers = len(self.client.scheduler_info().get("workers", {})) or workers

    def map(self, function: Callable[..., Any], model: Any, chunks: list[Any], stop: bool) -> Iterator[Any]:
        futures = [self.client.submit(function, model, chunk, stop, pure=False) for chunk in chunks]
        for future in futures:
            yield future.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_engine(name: str, workers: int, address: str | None = None) -> Any:
    """``local`` (one process), ``processes`` (a multiprocessing pool) or ``dask``."""
    if name == "local" or (name == "processes" and workers <= 1):
        return LocalEngine()
    if name == "processes":
        return ProcessEngine(workers)
    if name == "dask":
        return DaskEngine(workers, address)
    raise ValueError(f"unknown engine {name!r}")


def explore(model: Any, bounds: dict[str, Any], engine: Any = None, max_states: int | None = None,
            stop_at_violation: bool = True, progress: Callable[[Result], None] | None = None,
            chunk_size: int = 64) -> Result:
    """Enumerate every state reachable within the model's bounds, checking invariants in each."""
    engine = engine or LocalEngine()
    result = Result(model=model.name, bounds=bounds, workers=engine.workers, engine=engine.name)
    start = time.monotonic()
    # per level: key -> (parent key or None, choice); the frontier holds (key, state)
    parents: list[dict[bytes, tuple[bytes | None, Any]]] = [{}]
    frontier: list[tuple[bytes, Any]] = []
    for choice, state in model.initial():
        result.explored += 1
        key = digest(model.key(state))
        if key in parents[0]:
            continue
        parents[0][key] = (None, choice)
        frontier.append((key, state))
        broken = model.violations(state)
        if broken and result.counterexample is None:
            result.counterexample = _path(parents, 0, key, broken)
            if stop_at_violation:
                break
    result.distinct = len(frontier)
    result.levels.append(len(frontier))
    level = 0
    try:
        while frontier and not (result.counterexample and stop_at_violation):
            if max_states is not None and result.distinct >= max_states:
                result.complete = False
                break
            indexed = list(enumerate(state for _, state in frontier))
            size = max(1, min(chunk_size, -(-len(indexed) // (engine.workers * 4))))
            chunks = [indexed[i:i + size] for i in range(0, len(indexed), size)]
            nxt: dict[bytes, tuple[bytes | None, Any]] = {}
            states: list[tuple[bytes, Any]] = []
            for expanded, generated, finals in engine.map(expand_chunk, model, chunks, stop_at_violation):
                result.explored += generated
                result.final += len(finals)
                for item in expanded:
                    if item.key in nxt:
                        continue
                    nxt[item.key] = (frontier[item.parent][0], item.choice)
                    states.append((item.key, item.state))
                    if item.violations and result.counterexample is None:
                        parents.append(nxt)
                        result.counterexample = _path(parents, level + 1, item.key, item.violations)
                        parents.pop()
                # a chunk's parents all got expanded; stop early at a counterexample
                if result.counterexample and stop_at_violation:
                    break
            parents.append(nxt)
            frontier = states
            level += 1
            if frontier:
                result.depth = level
                result.distinct += len(frontier)
                result.levels.append(len(frontier))
            result.seconds = time.monotonic() - start
            if progress is not None:
                progress(result)
    finally:
        result.seconds = time.monotonic() - start
    if result.counterexample is not None:
        result.complete = False
    return result


def search(model: Any, bounds: dict[str, Any], max_states: int | None = None) -> Result:
    """Depth first, in the model's order of choices, until the first violation (one process).

    Covers the same states as :func:`explore` when it runs to the end; used to reach a deep
    violation (an agreement break at the last round) without expanding every shallower level
    first. The visited set is global (a state's step is part of its key)."""
    result = Result(model=model.name, bounds=bounds, engine="dfs")
    start = time.monotonic()
    visited: set[bytes] = set()
    stack: list[tuple[Any, Iterator[tuple[Any, Any]], list[Any]]] = []

    def push(choice: Any, state: Any, path: list[Any]) -> bool:
        result.explored += 1
        key = digest(model.key(state))
        if key in visited:
            return False
        visited.add(key)
        result.distinct += 1
        path = [*path, choice]
        result.depth = max(result.depth, len(path) - 1)
        broken = model.violations(state)
        if broken:
            result.counterexample = Counterexample(violations=broken, schedule=path, depth=len(path) - 1)
            return True
        stack.append((state, iter(model.successors(state)), path))
        return False

    try:
        for choice, state in model.initial():
            if push(choice, state, []):
                return result
            while stack:
                if max_states is not None and result.distinct >= max_states:
                    result.complete = False
                    return result
                state, children, path = stack[-1]
                step = next(children, None)
                if step is None:
                    stack.pop()
                    continue
                if push(step[0], step[1], path):
                    return result
    finally:
        result.seconds = time.monotonic() - start
        if result.counterexample is not None:
            result.complete = False
    return result


def _path(parents: list[dict[bytes, tuple[bytes | None, Any]]], level: int, key: bytes,
          violations: list[str]) -> Counterexample:
    schedule = []
    current: bytes | None = key
    for depth in range(level, -1, -1):
        assert current is not None
        parent, choice = parents[depth][current]
        schedule.append(choice)
        current = parent
    schedule.reverse()
    return Counterexample(violations=violations, schedule=schedule, depth=level)
