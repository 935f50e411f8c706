"""Figures of docs/post_best.md, written as plain SVG (no plotting library needed).

    .venv/bin/python -m smspec.tools.post_best_figure [--out-dir docs] [--trials 20000]

writes ``post_best_weights.svg`` (distribution function of weight / true size for several K) and
``post_best_split.svg`` (one merged proof vs the sum of proofs over equal parts), and prints the
percentile tables the page quotes. Weights come from the spec's integer estimator applied to the
exact law of the K-th lowest score (``smspec.tools.post_best_stats``); the seeds are fixed, so the
output is reproducible.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from smspec.tools import post_best_stats as stats

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 60, 170, 30, 50
COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d")
X_RANGE = (0.4, 1.8)


def cdf(values: np.ndarray, points: int = 281) -> tuple[np.ndarray, np.ndarray]:
    """Empirical distribution function on a grid over X_RANGE (curves of every width stay readable)."""
    x = np.linspace(X_RANGE[0], X_RANGE[1], points)
    return x, np.searchsorted(np.sort(values), x, side="right") / len(values)


def svg_plot(title: str, series: list[tuple[str, np.ndarray, np.ndarray]], x_label: str) -> str:
    """Line plot of (label, x, y) series (y in [0, 1]) with axes, ticks and a legend."""
    y_max = 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0]) * plot_w

    def sy(y: float) -> float:
        return TOP + plot_h - y / y_max * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT + plot_w / 2}" y="18" text-anchor="middle" font-size="14">{title}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="black"/>',
        f'<line x1="{sx(1.0):.1f}" y1="{TOP}" x2="{sx(1.0):.1f}" y2="{TOP + plot_h}" stroke="#999" stroke-dasharray="4 3"/>',
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 12}" text-anchor="middle">{x_label}</text>',
        f'<text x="16" y="{TOP + plot_h / 2}" text-anchor="middle" transform="rotate(-90 16 {TOP + plot_h / 2})">fraction of proofs below x</text>',
    ]
    for tick in np.arange(0.4, 1.81, 0.2):
        out.append(f'<line x1="{sx(tick):.1f}" y1="{TOP + plot_h}" x2="{sx(tick):.1f}" y2="{TOP + plot_h + 5}" stroke="black"/>')
        out.append(f'<text x="{sx(tick):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{tick:.1f}</text>')
    for level in (0.0, 0.5, 1.0):
        out.append(f'<text x="{LEFT - 6}" y="{sy(level) + 4:.1f}" text-anchor="end">{level:.1f}</text>')
        out.append(f'<line x1="{LEFT}" y1="{sy(level):.1f}" x2="{LEFT + plot_w}" y2="{sy(level):.1f}" stroke="#ddd"/>')
    for index, (label, x, y) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(f"{sx(float(a)):.1f},{sy(float(b)):.1f}" for a, b in zip(x, y, strict=True))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{points}"/>')
        ly = TOP + 14 + 18 * index
        out.append(f'<line x1="{WIDTH - RIGHT + 12}" y1="{ly - 4}" x2="{WIDTH - RIGHT + 36}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 42}" y="{ly}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def percentiles(values: np.ndarray) -> str:
    p = np.percentile(values, [1, 10, 50, 90, 99])
    return " ".join(f"{v:6.3f}" for v in p) + f" | {values.mean():6.4f} {values.std():6.4f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default="docs", help="where to write the SVG files (default: docs)")
    parser.add_argument("--trials", type=int, default=20000, help="Monte Carlo draws per curve (default 20000)")
    args = parser.parse_args(argv)
    pb = stats.post_best("mainnet")
    n = 2**36  # 16 SU
    out_dir = Path(args.out_dir)

    series = []
    print("weight / true labels, 16 SU, capped at 2x declared")
    print(f"{'K':>6} | p1     p10    p50    p90    p99    | mean   sd")
    for k in (16, 64, 256, 1024, 4096):
        rng = np.random.default_rng(k)
        w = stats.weights(pb, stats.kth_scores(rng, n, k, args.trials), k, 2 * n) / n
        print(f"{k:>6} | {percentiles(w)}")
        x, y = cdf(w)
        series.append((f"K = {k}", x, y))
    (out_dir / "post_best_weights.svg").write_text(
        svg_plot("Estimated weight / true size, by K", series, "weight / labels held"), encoding="utf-8")

    series = []
    k = 64
    print(f"\nmerged vs split, K = {k}, 16 SU in equal parts: total weight / true labels")
    print(f"{'parts':>6} | p1     p10    p50    p90    p99    | mean   sd")
    for parts in (1, 4, 16, 256):
        if parts == 1:
            rng = np.random.default_rng(99)
            w = stats.weights(pb, stats.kth_scores(rng, n, k, args.trials), k, 2 * n) / n
        else:
            _, split = stats.merged_vs_split(pb, n, parts, k, args.trials, seed=parts)
            w = split / n
        print(f"{parts:>6} | {percentiles(w)}")
        x, y = cdf(w)
        series.append(("merged" if parts == 1 else f"{parts} parts", x, y))
    (out_dir / "post_best_split.svg").write_text(
        svg_plot(f"One merged proof vs split identities (K = {k})", series, "total weight / labels held"),
        encoding="utf-8")
    print(f"\nwrote {out_dir / 'post_best_weights.svg'} and {out_dir / 'post_best_split.svg'}")


if __name__ == "__main__":
    main()
