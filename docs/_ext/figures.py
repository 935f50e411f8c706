"""``{spec-figure} NAME``: figures drawn by graphviz at build time, from the spec's code where the
spec has the structure in code, from the text of the spec otherwise.

* ``hare-rounds``: the Hare round state machine. The rounds and their order come from the spec
  (``hare.Round``, ``hare.MESSAGE_ROUNDS``, ``hare.next_iter_round``), walked from preround of
  iteration 0 through two iterations.
* ``tortoise-modes``: the tortoise's verifying and full modes and self-healing
  (``tortoise.md``, *Introduction* and ``verify_layers``).
* ``atx-marriage``: an ATX marriage and a merge across epochs (``atx.md``: marriage
  certificates, ``MarriageATX``, the equivocation set, merged ATXs).
* ``post-pipeline``: the PoST data layout and the proving pipeline (``post.md``).
* ``node-split``: the node and the smeshing service (``node.md``, ``docs/node.md``). The calls
  between them are the node-service API's routes as the node's own OpenAPI document lists them
  (``tools/node/openapi.py``, tag ``node service``), grouped by their first path segment.

Graphviz (Debian's ``graphviz``) renders them as SVG in the HTML editions and as PDF in the
LaTeX one; a figure whose DOT does not render fails the build (``-W``).
"""

from __future__ import annotations

from collections import Counter

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.ext.graphviz import graphviz
from sphinx.util.docutils import SphinxDirective

HEAD = 'digraph G {\n  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.3];\n  node [fontname="Helvetica", fontsize=10];\n  edge [fontname="Helvetica", fontsize=9];\n'


def hare_rounds() -> str:
    """The round sequence of two iterations, by the spec's own ``next_iter_round``: one row per
    iteration."""
    from smspec.spec import hare

    current = hare.IterRound(0, hare.Round.PREROUND)
    seen = []
    while current.iter < 2:
        seen.append(current)
        current = hare.next_iter_round(current)
    seen.append(current)
    lines = [HEAD.replace("rankdir=LR", "rankdir=TB, ranksep=0.35")]
    for iteration in sorted({s.iter for s in seen}):
        row = [s for s in seen if s.iter == iteration]
        lines.append("  { rank=same; " + " ".join(f"r{s.iter}_{s.round};" for s in row) + " }")
    for step in seen:
        name = hare.Round(step.round).name.lower()
        sends = hare.Round(step.round) in hare.MESSAGE_ROUNDS
        shape = 'shape=box, style="rounded,filled", fillcolor="#fff3e0"' if sends else 'shape=box, style="rounded,dashed"'
        extra = "\\nresult possible" if step.round == hare.Round.HARDLOCK and step.iter >= 1 else ""
        lines.append(f'  r{step.iter}_{step.round} [label="{name}\\niteration {step.iter}{extra}", {shape}];')
    for a, b in zip(seen, seen[1:], strict=False):
        lines.append(f"  r{a.iter}_{a.round} -> r{b.iter}_{b.round};")
    lines.append('  legend [shape=plaintext, label="filled: rounds with messages (MESSAGE_ROUNDS)\\n'
                 'dashed: rounds without messages; arrows: next_iter_round"];')
    lines.append("}")
    return "\n".join(lines)


TORTOISE_MODES = HEAD + """  verifying [label="verifying mode\\ngood ballots (opinion hash = own)\\nverify_layers", shape=box, style="rounded,filled", fillcolor="#e8f0fe"];
  full [label="full mode\\nevery ballot's votes, block margins\\nlocal and global thresholds", shape=box, style="rounded,filled", fillcolor="#fff3e0"];
  healing [label="self-healing\\nundecided blocks: vote by the weak coin\\nuntil one side crosses the global threshold", shape=box, style="rounded,dashed"];
  verifying -> verifying [label="layer verified"];
  verifying -> full [label="first unverified layer\\nbeyond hdist"];
  full -> verifying [label="both verifiers agree\\nand reach processed - 1"];
  full -> healing [label="margin below the\\nlocal threshold"];
  healing -> full [label="a side crosses\\nthe global threshold"];
}"""

ATX_MARRIAGE = """digraph G {
  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.35, ranksep=0.5];
  node [fontname="Helvetica", fontsize=10, shape=box, style=rounded];
  edge [fontname="Helvetica", fontsize=9];
  subgraph cluster_e1 { label="epoch e"; style=dashed;
    a1 [label="ATX of A (solo)"]; b1 [label="ATX of B (solo)"]; }
  subgraph cluster_e2 { label="epoch e + 1"; style=dashed;
    m [label="marriage ATX of A\\nmarriages: a certificate per identity\\n(A, B), each signed by that identity", style="rounded,filled", fillcolor="#fff3e0"];
    b2 [label="ATX of B\\nmarriage_atx = the marriage ATX"]; }
  subgraph cluster_e3 { label="epoch e + 2 and later"; style=dashed;
    merged [label="merged ATX (one signer)\\na sub-post per identity of the set\\nweight from their units and ticks", style="rounded,filled", fillcolor="#e8f0fe"]; }
  a1 -> m [label="previous"]; b1 -> b2 [label="previous"];
  m -> b2 [label="marriage_atx", style=dashed];
  m -> merged [label="marriage_atx"]; b2 -> merged [label="previous (B's sub-post)"];
  set [shape=note, label="equivocation set {A, B}\\nmarried for good: a second marriage\\nor two ATXs of one epoch = malfeasance"];
  m -> set [style=dotted, arrowhead=none];
}"""

POST_PIPELINE = """digraph G {
  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.4];
  node [fontname="Helvetica", fontsize=10, shape=box, style=rounded];
  edge [fontname="Helvetica", fontsize=9];
  subgraph cluster_init { label="initialization (once)"; style=dashed;
    commitment [label="compute_commitment\\n= BLAKE3(node ID || commitment ATX ID)"];
    labels [label="compute_label: label i = 16 bytes\\nof scrypt-jane(commitment, i)"];
    files [label="postdata_0.bin ... postdata_k.bin\\nlabels in index order, max_file_size each\\npostdata_metadata.json", shape=folder];
    nonce [label="VRF nonce: lowest index whose\\n32-byte output is below the threshold"];
    commitment -> labels -> files; labels -> nonce; }
  subgraph cluster_prove { label="proving (each epoch)"; style=dashed;
    challenge [label="challenge (32 bytes, from the PoET proof)"];
    k2pow [label="k2pow: RandomX work\\nper nonce group"];
    pass [label="read the labels once: one AES-128 block per label\\ndecides for 16 nonces at once whether it passes;\\nthe first nonce with K2 passing labels wins"];
    proof [label="proof = nonce, K2 indices (bit-packed), pow", style="rounded,filled", fillcolor="#fff3e0"];
    challenge -> k2pow -> pass -> proof; }
  files -> pass [label="stream"];
  subgraph cluster_verify { label="verification"; style=dashed;
    verify [label="verify_proof: check the k2pow and the index list,\\nregenerate K3 labels (BLAKE3-seeded shuffle),\\nrerun the pass test"]; }
  proof -> verify;
}"""

def node_split() -> str:
    """The node, the smeshing service and the PoET server; the service's calls to the node are
    the OpenAPI document's ``node service`` routes, grouped by what they serve."""
    from smspec.tools.node import openapi

    groups = Counter(path.removeprefix("/node/v1/").split("/")[0]
                     for path, operations in openapi.document()["paths"].items()
                     for operation in operations.values() if "node service" in operation.get("tags", []))
    if not groups:
        raise ValueError("the OpenAPI document lists no node-service route")
    calls = "\\n".join(f"{name}: {count} route{'s' if count > 1 else ''}" for name, count in groups.items())
    return HEAD.replace("nodesep=0.3", "nodesep=0.45") + f"""  subgraph cluster_service {{ label="smeshing service (outgoing connections only)"; style=dashed;
    keys [label="keys (KEYS/*.key, mode 0600)\\nEd25519 seeds of the identities", shape=folder];
    post [label="PoST data\\n(labels, metadata, proofs)", shape=folder];
    service [label="smesher.py: eligibility, building and\\nsigning ATXs, proposals, ballots,\\nHare messages, certificates;\\nsigned messages kept before publishing", style="rounded,filled", fillcolor="#fff3e0", shape=box];
    keys -> service; post -> service; }}
  subgraph cluster_node {{ label="node (public data only, reachable)"; style=dashed;
    nd [label="node.py: validation by the spec,\\nHare, tortoise, blocks, Athena,\\nstate; no private key", style="rounded,filled", fillcolor="#e8f0fe", shape=box];
    db [label="node.sqlite\\n(public objects only)", shape=cylinder];
    nd -> db; }}
  peers [label="other nodes\\n(gossip, catch-up)", shape=box, style=rounded];
  poet [label="PoET server", shape=box, style=rounded];
  clients [label="wallets, explorers,\\nthe dashboard", shape=box, style=rounded];
  service -> nd [label="node-service API\\n{calls}"];
  service -> poet [label="register, fetch proof"];
  nd -> peers [dir=both, label="p2p"];
  clients -> nd [label="public API (v2alpha1)"];
}}"""


FIGURES = {
    "hare-rounds": hare_rounds,
    "tortoise-modes": lambda: TORTOISE_MODES,
    "atx-marriage": lambda: ATX_MARRIAGE,
    "post-pipeline": lambda: POST_PIPELINE,
    "node-split": node_split,
}


class SpecFigure(SphinxDirective):
    required_arguments = 1
    has_content = True  # the caption
    option_spec = {"alt": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        if name not in FIGURES:
            raise self.error(f"unknown figure {name!r} (known: {', '.join(FIGURES)})")
        node = graphviz()
        node["code"] = FIGURES[name]()
        node["options"] = {"docname": self.env.docname}
        node["alt"] = self.options.get("alt", name)
        node["align"] = "center"
        node["classes"] = ["spec-figure"]
        figure = nodes.figure("", node, ids=[f"figure-{name}"])
        if self.content:
            caption = nodes.caption(text=" ".join(self.content))
            figure += caption
        return [figure]


def setup(app: Sphinx) -> dict[str, object]:
    app.setup_extension("sphinx.ext.graphviz")
    app.add_directive("spec-figure", SpecFigure)
    return {"parallel_read_safe": True}
