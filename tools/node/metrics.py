"""Prometheus text exposition of a node's state (``GET /metrics``)."""

from __future__ import annotations


def _line(out: list[str], name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        label_text = ",".join(f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                              for k, v in sorted(labels.items()))
        out.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")


def render(status: dict, counts: dict, requests: dict[str, int]) -> str:
    """The metrics text of a node: layers, peers, gossip, Hare rounds, the transaction pool."""
    out: list[str] = []
    metrics = status.get("metrics", {})
    _line(out, "smspec_layer", "gauge", "the layer the node is in", [({}, status.get("layer", 0))])
    _line(out, "smspec_verified_layer", "gauge", "the last layer the tortoise verified", [({}, status.get("verified", 0))])
    _line(out, "smspec_applied_layer", "gauge", "the last layer applied to the state", [({}, status.get("applied", 0))])
    _line(out, "smspec_peers", "gauge", "connected peers", [({}, status.get("peers", 0))])
    _line(out, "smspec_gossip_total", "counter", "objects received, by outcome",
          [({"outcome": outcome}, metrics.get(f"gossip_{outcome}", 0)) for outcome in ("accepted", "duplicate", "rejected")])
    _line(out, "smspec_rejections_total", "counter", "refused objects, by kind and reason",
          [({"kind": key.split(":", 1)[0], "reason": key.split(":", 1)[1]}, n)
           for key, n in sorted(counts.get("rejections", {}).items())])
    _line(out, "smspec_hare_rounds_total", "counter", "Hare rounds executed (this process)",
          [({}, metrics.get("hare_rounds", 0))])
    _line(out, "smspec_hare_outputs", "gauge", "layers with a Hare output", [({}, counts.get("hare_outputs", 0))])
    _line(out, "smspec_txpool", "gauge", "transactions by status",
          [({"status": s}, n) for s, n in sorted(counts.get("txs", {}).items())])
    _line(out, "smspec_atxs", "gauge", "stored ATXs", [({}, counts.get("atxs", 0))])
    _line(out, "smspec_malicious_identities", "gauge", "identities proven malicious",
          [({}, len(counts.get("malicious", [])))])
    _line(out, "smspec_sync_sessions_total", "counter", "set-reconciliation sessions ended, by role (this process)",
          [({"role": role}, metrics.get(f"sync_{key}", 0))
           for role, key in (("initiated", "sessions"), ("probe", "probes"), ("answered", "served"))])
    _line(out, "smspec_sync_rounds_total", "counter", "set-reconciliation rounds received from peers",
          [({}, metrics.get("sync_rounds", 0))])
    _line(out, "smspec_sync_bytes_total", "counter", "set-reconciliation bytes: messages sent and received, "
          "objects fetched", [({"direction": d}, metrics.get(f"sync_{key}", 0)) for d, key in
                              (("sent", "bytes_sent"), ("received", "bytes_received"), ("fetched", "fetch_bytes"))])
    _line(out, "smspec_sync_items_total", "counter", "objects fetched by set reconciliation and stored as new",
          [({}, metrics.get("sync_items", 0))])
    _line(out, "smspec_sync_refused_total", "counter", "objects fetched and refused for now (the node's view)",
          [({}, metrics.get("sync_refused", 0))])
    _line(out, "smspec_sync_errors_total", "counter", "sessions ended by a peer's protocol error (peer dropped)",
          [({}, metrics.get("sync_errors", 0))])
    _line(out, "smspec_api_requests_total", "counter", "API requests by route",
          [({"route": route}, n) for route, n in sorted(requests.items())])
    return "\n".join(out) + "\n"
