"""Vector releases: the version of the vectors, and the tarballs client teams download.

**Versioning rule** (``vectors_version``, MAJOR.MINOR.PATCH), computed by ``smspec vectors
generate`` against the last release (``vectors/release.json``, written by ``smspec vectors pack
--release``):

* **MAJOR** when a released case's expected outcome changes or a released case disappears
  (a client that passed may now fail), or the vector format / adapter protocol changes;
* **MINOR** when cases are added (a client that passed still passes what it ran);
* **PATCH** when anything else in the case files changes (descriptions, spec references, inputs
  written out explicitly, levels) with every expected outcome the same;
* unchanged otherwise. Regenerating is idempotent: the version depends on the release and the
  current cases only.

**Tarballs** (``smspec vectors pack``): one per preset, ``smspec-vectors-<version>-<preset>.tar.gz``,
holding under ``smspec-vectors-<version>-<preset>/`` the preset's cases and the blobs they name,
``index.json``, the format documents (``conformance/formats/``, with one page per handler), the
spec documents (``spec/``, which ``spec_ref`` and the pages link to), the preset's parameters
(``presets/<preset>.json``), the standalone runner ``run.py``, example adapters, a ``README.md``
and ``manifest.json``: vector format and protocol versions, ``vectors_version``, smspec's version
and commit, and per domain the upstream versions (repository → commits / tags) that the spec
documents its cases exercise cite. Tarballs are byte-for-byte reproducible.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smspec.conformance import runner

RELEASE_FORMAT = "smspec-vectors-release/1"
FIRST_VERSION = "1.0.0"
_EXAMPLES = ("example_adapter.py", "node/adapter.mjs")

# Citations of upstream versions in the spec documents.
_REPO = r"`?((?:github\.com/)?[A-Za-z][A-Za-z0-9_-]*/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)`?"
_VERSION = r"`?(v\d+\.\d+(?:\.\d+)?|[0-9a-f]{7,40})`?"
_PATTERNS = (
    re.compile(_REPO + r"(?: \(Go\))?(?: develop)?\s*(?:at|@)\s*(?:tag |commit |rev )?" + _VERSION),
    re.compile(_REPO + r" (v\d+\.\d+\.\d+)"),
    re.compile(_REPO + r" \([^)]*?\brev `([0-9a-f]{7,40})`"),
)
_BARE = {"go-spacemesh": "spacemeshos/go-spacemesh", "GS": "spacemeshos/go-spacemesh", "SC": "spacemeshos/go-scale",
         "PR": "spacemeshos/post-rs", "GP": "spacemeshos/post", "SJ": "spacemeshos/scrypt-jane",
         "MT": "spacemeshos/merkle-tree", "VOI": "oasisprotocol/curve25519-voi"}
_BARE_PATTERN = re.compile(r"\b(" + "|".join(_BARE) + r")\b[^\n]*?\bat\s+(?:commit\s+|tag\s+)?" + _VERSION)
_IMPORT = re.compile(r"^from smspec\.spec\.(\w+) import", re.M)


def spec_dir() -> Path:
    from smspec import spec

    return Path(spec.SPEC_DIR)


def upstream_pins(document: str) -> dict[str, list[str]]:
    """``{repository: [versions]}`` that ``spec/<document>`` cites (``owner/repo`` at a commit or tag)."""
    text = (spec_dir() / document).read_text(encoding="utf-8")
    found: dict[str, set[str]] = {}
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            repo = match.group(1).removeprefix("github.com/")
            if "." in repo.split("/")[0] or repo.endswith((".go", ".rs", ".md", ".py")):
                continue  # a file path, not a repository
            found.setdefault(repo, set()).add(match.group(2))
    for match in _BARE_PATTERN.finditer(text):
        found.setdefault(_BARE[match.group(1)], set()).add(match.group(2))
    return {repo: _one_per_commit(versions) for repo, versions in sorted(found.items())}


def _one_per_commit(versions: set[str]) -> list[str]:
    """The versions, sorted, with a full commit hash dropped where its short form is cited too."""
    return sorted(v for v in versions if not any(o != v and v.startswith(o) and len(o) >= 7 for o in versions))


def imported_documents(document: str) -> set[str]:
    """``document`` and every spec document it imports, transitively."""
    seen: set[str] = set()
    todo = [document]
    while todo:
        name = todo.pop()
        if name in seen or not (spec_dir() / name).is_file():
            continue
        seen.add(name)
        todo += [f"{m}.md" for m in _IMPORT.findall((spec_dir() / name).read_text(encoding="utf-8"))]
    return seen


def domain_pins(documents: set[str]) -> dict[str, list[str]]:
    merged: dict[str, set[str]] = {}
    for document in sorted({d for doc in documents for d in imported_documents(doc)}):
        for repo, versions in upstream_pins(document).items():
            merged.setdefault(repo, set()).update(versions)
    return {repo: sorted(versions) for repo, versions in sorted(merged.items())}


# ---------------------------------------------------------------------------------------------
# Versions


def expected_digest(expected: Any) -> str:
    """A short stable digest of a case's expected outcome (its canonical JSON)."""
    text = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        raise ValueError(f"not a MAJOR.MINOR.PATCH version: {text!r}")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def next_version(release: dict[str, Any] | None, index: dict[str, Any]) -> tuple[str, str]:
    """(version, why) of an index (``cases``: path → file sha256, ``expected``: path → digest)
    against the last release (None: this is the first)."""
    if release is None:
        return FIRST_VERSION, "first release"
    major, minor, patch = parse_version(release["vectors_version"])
    old_expected, new_expected = release["expected"], index["expected"]
    gone = sorted(set(old_expected) - set(new_expected))
    changed = sorted(p for p in old_expected if p in new_expected and old_expected[p] != new_expected[p])
    if gone or changed or release.get("vector_format", runner.VECTOR_FORMAT) != runner.VECTOR_FORMAT:
        what = f"{len(changed)} expected outcome(s) changed, {len(gone)} case(s) removed"
        return f"{major + 1}.0.0", f"breaking: {what} (e.g. {(changed + gone)[0] if changed + gone else 'format'})"
    added = sorted(set(new_expected) - set(old_expected))
    if added:
        return f"{major}.{minor + 1}.0", f"{len(added)} case(s) added"
    if release["cases"] != index["cases"] or release.get("blobs", {}) != index.get("blobs", {}):
        return f"{major}.{minor}.{patch + 1}", "case files changed, expected outcomes unchanged"
    return release["vectors_version"], "unchanged since the release"


def release_record(index: dict[str, Any]) -> dict[str, Any]:
    """What ``vectors/release.json`` keeps of a released index."""
    return {"format": RELEASE_FORMAT, "vector_format": runner.VECTOR_FORMAT,
            "vectors_version": index["vectors_version"], "cases": index["cases"], "blobs": index.get("blobs", {}),
            "expected": index["expected"]}


# ---------------------------------------------------------------------------------------------
# Tarballs


def smspec_commit(root: Path) -> str:
    """The commit of the checkout (``-dirty`` when it has changes), or ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=30)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


@dataclass
class Packed:
    preset: str
    path: Path
    cases: int
    size: int


def _documents_of(case: runner.StoredCase) -> set[str]:
    refs = [case.document.get("spec_ref", ""), case.document.get("decision", "")]
    return {ref.partition("#")[0] for ref in refs if ref and ".md" in ref}


def manifest_for(preset: str, cases: list[runner.StoredCase], index: dict[str, Any], commit: str) -> dict[str, Any]:
    from smspec import __version__
    from smspec.conformance import handlers as handler_registry

    registry = handler_registry.discover()
    domains: dict[str, dict[str, Any]] = {}
    for case in cases:
        entry = domains.setdefault(case.document["manifest"]["domain"], {"cases": 0, "documents": set()})
        entry["cases"] += 1
        entry["documents"] |= _documents_of(case)
        handler = registry.get(case.key)
        if handler is not None and handler.schema is not None:
            entry["documents"] |= {ref.partition("#")[0] for ref in handler.schema.spec}
    levels = {level: sum(1 for c in cases if c.level == level) for level in runner.LEVELS}
    return {
        "format": RELEASE_FORMAT,
        "vector_format": runner.VECTOR_FORMAT,
        "adapter_protocol": runner.PROTOCOL,
        "vectors_version": index["vectors_version"],
        "preset": preset,
        "smspec_version": __version__,
        "smspec_commit": commit,
        "cases": len(cases),
        "levels": levels,
        "domains": {
            name: {"cases": entry["cases"], "spec_documents": sorted(entry["documents"]),
                   "upstream": domain_pins(entry["documents"])}
            for name, entry in sorted(domains.items())
        },
        "versioning": "MAJOR: a released case's expected outcome changes or a case is removed; MINOR: cases added; "
                      "PATCH: other case-file changes with the same expected outcomes",
    }


def readme_for(manifest: dict[str, Any]) -> str:
    top = f"smspec-vectors-{manifest['vectors_version']}-{manifest['preset']}"
    levels = manifest["levels"]
    lines = [
        f"# smspec conformance vectors {manifest['vectors_version']} ({manifest['preset']})", "",
        f"{manifest['cases']} cases ({levels['live']} live, {levels['spec-strict']} spec-strict, "
        f"{levels['untyped-input']} with inputs a typed client cannot hold, {levels['devnet']} of rules only "
        "smspec's devnet has), generated by smspec "
        f"{manifest['smspec_version']} at commit `{manifest['smspec_commit']}`. `manifest.json` says which "
        "upstream versions each domain follows.", "",
        "## Run your client", "",
        "Write an adapter (any language) that reads one JSON request per line on standard input and "
        "answers one JSON line per request on standard output ([the protocol](conformance/formats/adapter.md)); "
        "then, with Python 3.9 or later and nothing else:", "",
        "```text",
        f"cd {top}",
        "python3 run.py --client \"./my-adapter\"             # every case",
        "python3 run.py --client \"./my-adapter\" --live      # live-network behaviour only",
        "python3 run.py --client \"./my-adapter\" --only scale --report json status.json",
        "```", "",
        "The last lines of a run are the coverage (cases answered vs `unsupported`), one line per level "
        "(`live`, `spec-strict`, `untyped-input`, `devnet`) and the totals.", "",
        "## Read", "",
        "* [conformance/formats/handlers/README.md](conformance/formats/handlers/README.md): one page per "
        "handler (inputs, defaults, output, every error class and reason, order of checks);",
        "* [conformance/formats/adapter.md](conformance/formats/adapter.md): the adapter protocol, the JSON "
        "conventions and the error model;",
        "* [conformance/formats/README.md](conformance/formats/README.md): the case file format;",
        "* `spec/`: the spec documents every case's `spec_ref` points into; "
        f"`presets/{manifest['preset']}.json`: the preset's parameters;",
        "* `examples/`: example adapters (Python, Node.js).", "",
        "## Versions", "",
        f"Vector format `{manifest['vector_format']}`, adapter protocol `{manifest['adapter_protocol']}`. "
        f"Vectors version {manifest['vectors_version']}: {manifest['versioning']}.",
    ]
    return "\n".join(lines) + "\n"


def _add(tar: tarfile.TarFile, name: str, data: bytes, executable: bool = False) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o755 if executable else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def pack(vectors: Path, out: Path, presets: list[str] | None = None) -> list[Packed]:
    """Write one tarball per preset of the vector tree ``vectors`` into ``out``."""
    index = runner.load_index(vectors)
    if index is None or "vectors_version" not in index:
        raise runner.VectorError(f"{vectors}/index.json: no vectors_version (run `smspec vectors generate`)")
    cases = runner.load_cases(vectors)
    root = spec_dir().parent
    commit = smspec_commit(root)
    formats = Path(__file__).resolve().parent / "formats"
    adapters = Path(__file__).resolve().parent / "adapters"
    chosen = sorted({c.preset for c in cases} & set(presets)) if presets else sorted({c.preset for c in cases})
    out.mkdir(parents=True, exist_ok=True)
    packed = []
    for preset in chosen:
        mine = [c for c in cases if c.preset == preset]
        manifest = manifest_for(preset, mine, index, commit)
        top = f"smspec-vectors-{index['vectors_version']}-{preset}"
        files: dict[str, tuple[bytes, bool]] = {}
        blobs: set[str] = set()
        sub_index = {"format": runner.INDEX_FORMAT, "spec_version": index.get("spec_version", ""),
                     "vectors_version": index["vectors_version"], "cases": {}, "blobs": {}}
        for case in mine:
            relative = case.path.relative_to(vectors).as_posix()
            files[relative] = (case.path.read_bytes(), False)
            sub_index["cases"][relative] = index["cases"][relative]
            blobs |= set(case.document.get("blobs", {}))
        for sha in sorted(blobs):
            files[f"blobs/{sha}.bin"] = ((vectors / "blobs" / f"{sha}.bin").read_bytes(), False)
            sub_index["blobs"][sha] = index["blobs"][sha]
        files["index.json"] = (json.dumps(sub_index, sort_keys=True, indent=1).encode() + b"\n", False)
        files["manifest.json"] = (json.dumps(manifest, sort_keys=True, indent=1).encode() + b"\n", False)
        files["README.md"] = (readme_for(manifest).encode(), False)
        files["run.py"] = ((Path(runner.__file__)).read_bytes(), True)
        for document in sorted(formats.rglob("*.md")):
            files[f"conformance/formats/{document.relative_to(formats).as_posix()}"] = (document.read_bytes(), False)
        for document in sorted(spec_dir().glob("*.md")):
            files[f"spec/{document.name}"] = (document.read_bytes(), False)
        files[f"presets/{preset}.json"] = ((spec_dir() / "presets" / f"{preset}.json").read_bytes(), False)
        for example in _EXAMPLES:
            path = adapters / example
            if path.is_file():
                files[f"examples/{Path(example).name}"] = (path.read_bytes(), True)
        target = out / f"{top}.tar.gz"
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(files):
                data, executable = files[name]
                _add(tar, f"{top}/{name}", data, executable)
        with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(buffer.getvalue())
        packed.append(Packed(preset, target, len(mine), target.stat().st_size))
    return packed
