"""A long honest trace with a short window (tortoise/events/trace): eviction runs and cuts the
votes of the ballots at the window's start (tortoise.md#evict, #cut_votes_before), and the
trace ends with the last verified layer (``latest``).

Like test_traces.py, the expected outputs are what the simulated node reported while it ran;
the final ``latest`` record is the verified layer of its last tally.
"""

from __future__ import annotations

import attrs
import smspec.spec.tiny.tortoise as T
from smspec.conformance.cases import Case, vector_source
from smspec.tools.tortoise_sim import Scenario, Simulation

WINDOW = {"window_size": 6}


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_short_window_trace():
    node = Simulation(T, Scenario(layers=30, smeshers=4, seed=11, config=WINDOW)).run().nodes[0]
    config = {**{f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}, **WINDOW}
    last_verified = [o for o in node.outputs if o["op"] == "tally"][-1]["verified"]
    yield Case("short_window_eviction", inputs={"config": config, "events": [*node.events, {"op": "latest"}], "depth": 8},
               expected={"outputs": [*node.outputs, {"op": "latest", "layer": last_verified}]},
               spec_ref="tortoise.md#evict",
               description="30 honest layers with a window of 6: old layers are evicted and the votes of ballots "
               "at the window's start cut; the last record is the last verified layer")
