"""``smspec node``: run a reference node, or query one (docs/node.md).

``smspec node run --data DIR --genesis FILE`` runs one node on its database: its HTTP API (the
public API in API v2alpha1 shapes and the node-service API its smeshing services use) and a
TCP port for gossip. The layer clock comes from a coordinator (``smspec devnet up --tcp`` starts
node processes this way); without one the node serves its API over what it holds until Ctrl-C.
``smspec node status`` reads a node's status through its API or from its database.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from smspec.tools.cli import CliError, integer

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def configure_logging(path: str, level: str) -> None:
    """Log to a file (or standard error with "-") at a level: one line per event."""
    handler = logging.StreamHandler(sys.stderr) if path == "-" else logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("smspec")
    root.setLevel(level)
    root.addHandler(handler)


def run_command(args: argparse.Namespace) -> int:
    from smspec.tools.cli import check_output, load_json, read_input
    from smspec.tools.node.node import Genesis, NodeHalted
    from smspec.tools.node.tcp import NodeProcess

    if os.path.exists(args.data) and not os.path.isdir(args.data):
        raise CliError(f"--data {args.data!r} is a file, expected a directory")
    check_output(args.data, "--data", directory=True)
    data = load_json(read_input(args.genesis, "--genesis", 1 << 22), f"--genesis {args.genesis!r}")
    try:
        Genesis.from_json(json.dumps(data))
    except (ValueError, TypeError) as error:
        raise CliError(f"--genesis {args.genesis!r}: not a genesis file ({error})") from None
    if args.log_file not in (None, "-"):
        check_output(args.log_file, "--log-file")
    log_file = args.log_file or os.path.join(args.data, "node.log")
    os.makedirs(args.data, exist_ok=True)
    configure_logging(log_file, args.log_level)
    try:
        process = NodeProcess(args.data, args.genesis, args.index, args.byzantine, args.api_port, args.log_level)
    except NodeHalted as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(f"cannot start the node: {error}") from None
    if args.coordinated:
        process.serve()
        return 0
    process.api.start()
    print(f"node {args.index}: API {process.api.url}, gossip port {process.port}; no coordinator: serving the "
          "API until interrupted (Ctrl-C)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        process.api.stop()
        process.node.close()
    return 0


def status_command(args: argparse.Namespace) -> int:
    from smspec.tools.commands.devnet import request

    if args.datadir:
        from smspec.tools.node.storage import NodeReader

        path = args.datadir
        if os.path.exists(os.path.join(path, "devnet.json")):
            path = os.path.join(path, f"node{args.node}")
        import sqlite3

        from smspec.tools.cli import load_json

        try:
            text = NodeReader(os.path.join(path, "node.sqlite")).meta("status")
        except FileNotFoundError as error:
            raise CliError(str(error)) from None
        except sqlite3.Error as error:
            raise CliError(f"--datadir {args.datadir!r}: not a readable node database: {error}") from None
        status = load_json(text or "{}", f"the status in {path}")
    else:
        status = request(args.url, "/status")
    if args.json:
        print(json.dumps(status, indent=1))
        return 0
    from smspec.tools.commands.devnet import answer

    if status == {}:
        raise CliError("the node has not finished a layer yet")
    lines = answer("status", lambda: [
        f"node {status['node']}: layer {status['layer']}, verified {status['verified']}, applied {status['applied']}",
        f"state root {status['state_root']}",
        f"ATXs {status['atxs']}, proposals {status['proposals']}, blocks {status['blocks']}, "
        f"malicious identities {len(status['malicious'])}, peers {status.get('peers', 0)}",
        *(["transactions: " + ", ".join(f"{k} x{v}" for k, v in sorted(status["mempool"].items()))]
          if status.get("mempool") else []),
        *(["rejected: " + ", ".join(f"{k} x{v}" for k, v in sorted(status["rejections"].items()))]
          if status["rejections"] else []),
    ])
    print("\n".join(lines))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from smspec.tools.commands.devnet import DEFAULT_URL

    node = subparsers.add_parser("node", help="run a reference node or query one", description=__doc__)
    sub = node.add_subparsers(dest="node_command", metavar="COMMAND")
    run = sub.add_parser("run", help="run one node on its database (HTTP API, gossip port)")
    run.add_argument("--data", required=True, metavar="DIR", help="the node's directory (its database)")
    run.add_argument("--genesis", required=True, metavar="FILE", help="the network's genesis.json")
    run.add_argument("--index", type=integer(0, 65535, "a node index"), default=0, help="the node's index in the devnet")
    run.add_argument("--api-port", type=integer(0, 65535, "a port"), default=9190,
                     help="serve the HTTP API on 127.0.0.1:PORT (0: any free port; default 9190)")
    run.add_argument("--byzantine", action="store_true", help="relay whatever the smeshing services publish")
    run.add_argument("--log-level", choices=LOG_LEVELS, default="INFO", help="log level (default INFO)")
    run.add_argument("--log-file", metavar="FILE", help="log file (default DIR/node.log; - for standard error)")
    run.add_argument("--coordinated", action="store_true", help=argparse.SUPPRESS)  # started by devnet up --tcp
    run.set_defaults(func=run_command)
    status = sub.add_parser("status", help="layer, verified layer, state root and counts of a node")
    status.add_argument("--url", default=DEFAULT_URL, help=f"node API (default {DEFAULT_URL})")
    status.add_argument("--datadir", help="read a node directory (or a devnet directory with --node) instead")
    status.add_argument("--node", type=integer(0, 31, "a node index"), default=0,
                        help="node index within a devnet directory (default 0)")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=status_command)
    node.set_defaults(func=lambda args: node.print_help() or 2)
