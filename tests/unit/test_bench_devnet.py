"""`smspec bench devnet`'s report: CPU-seconds beside wall-clock, and each nodes-scaling step's
CPU ratio next to the linear bound N/N0."""

from __future__ import annotations

from smspec.tools import bench_devnet as b


def result(cpu: float, quiet_cpu: float | None, wall: float = 9.0, quiet_wall: float = 0.5) -> dict:
    return {"cpu": cpu, "quiet_cpu": quiet_cpu, "elapsed": wall, "quiet_wall": quiet_wall}


def test_scaling_step_against_the_linear_bound() -> None:
    base = result(4.0, 0.10)
    assert b._scaling(8, 4, result(7.0, 0.25), base) == (
        "  4 -> 8 nodes: CPU whole run  1.75x (within the linear bound 2.00x), quiet layers  2.50x (ABOVE it)")
    assert b._scaling(16, 4, result(16.0, 0.40), base) == (
        "  4 -> 16 nodes: CPU whole run  4.00x (within the linear bound 4.00x), quiet layers  4.00x (within it)")
    assert b._scaling(8, 4, result(8.5, 0.0), result(4.0, 0.0)) == (
        "  4 -> 8 nodes: CPU whole run  2.12x (ABOVE the linear bound 2.00x), no quiet layers (--layers 10 or more)")


def test_line_labels_cpu_and_wall() -> None:
    assert b._line("8 nodes, 1 service each", result(6.0, 0.145, 10.37, 0.241)) == (
        "8 nodes, 1 service each              CPU    6.00s  quiet layers  0.145 CPU-s/layer | "
        "wall  10.37s, quiet  0.241 s/layer")
    assert b._line("split (node + service processes), 4", result(30.0, None, 34.8, 0.8)) == (
        "split (node + service processes), 4  CPU   30.00s  quiet layers  (CPU n/a) | wall  34.80s, quiet  0.800 s/layer")
