"""``smspec node``: run a reference node, or query one (docs/node.md); ``smspec poet``: run the
network's PoET service.

``smspec node run --data DIR --genesis FILE --listen HOST:PORT --peer HOST:PORT ...`` runs one
node on its database: its own layer clock (the genesis time and layer duration of the network's
genesis), gossip with its peers over TCP, its HTTP API (the public API in API v2alpha1 shapes and
the node-service API its smeshing services use). A node started behind the clock catches up
from a peer first. ``smspec devnet up --tcp`` starts node processes that take their layers from
its coordinator instead (``--coordinated``). ``smspec node status`` reads a node's status through
its API or from its database. ``smspec poet run`` serves the PoET rounds of a self-clocked
network (devnet rule poet-server).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from smspec.tools.cli import CliError, integer

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def configure_logging(path: str, level: str) -> None:
    """Log to a file (or standard error with "-") at a level: one line per event."""
    handler = logging.StreamHandler(sys.stderr) if path == "-" else logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("smspec")
    root.setLevel(level)
    root.addHandler(handler)


def _address(text: str, option: str) -> tuple[str, int]:
    from smspec.tools.node.peers import parse_address

    try:
        return parse_address(text)
    except ValueError as error:
        raise CliError(f"{option} {error}") from None


def _genesis(path: str) -> object:
    from smspec.tools.cli import load_json, read_input
    from smspec.tools.node.node import Genesis

    data = load_json(read_input(path, "--genesis", 1 << 22), f"--genesis {path!r}")
    try:
        return Genesis.from_json(json.dumps(data))
    except (ValueError, TypeError) as error:
        raise CliError(f"--genesis {path!r}: not a genesis file ({error})") from None


def _log_file(args: argparse.Namespace, directory: str, default: str) -> str:
    from smspec.tools.cli import check_output

    if args.log_file not in (None, "-"):
        check_output(args.log_file, "--log-file")
    return args.log_file or os.path.join(directory, default)


def run_command(args: argparse.Namespace) -> int:
    from smspec.tools.cli import check_output
    from smspec.tools.node.node import NodeHalted

    listen = _address(args.listen, "--listen")
    peers = [_address(text, "--peer") for text in args.peer]
    if os.path.exists(args.data) and not os.path.isdir(args.data):
        raise CliError(f"--data {args.data!r} is a file, expected a directory")
    check_output(args.data, "--data", directory=True)
    genesis = _genesis(args.genesis)
    if not args.coordinated and not genesis.layer_duration:
        raise CliError(f"--genesis {args.genesis!r} has no layer clock (layer duration 0: a devnet that "
                       "`smspec devnet up` runs); a self-clocked network is made by `smspec devnet init`")
    log_file = _log_file(args, args.data, "node.log")
    os.makedirs(args.data, exist_ok=True)
    configure_logging(log_file, args.log_level)
    if args.coordinated:
        from smspec.tools.node.tcp import NodeProcess

        try:
            process = NodeProcess(args.data, args.genesis, args.index, args.byzantine, args.api_port, args.log_level)
        except NodeHalted as error:
            raise CliError(str(error)) from None
        except OSError as error:
            raise CliError(f"cannot start the node: {error}") from None
        process.serve()
        return 0
    import threading

    from smspec.tools.node.clocked import ClockedNode, stop_on_signals

    stop = threading.Event()
    try:
        node = ClockedNode(args.data, genesis, args.index, listen, peers, args.api_port, args.layers, stop=stop)
    except NodeHalted as error:
        raise CliError(str(error)) from None
    except OSError as error:
        raise CliError(f"cannot start the node (--listen {args.listen}, --api-port {args.api_port}): "
                       f"{error.strerror or error}") from None
    stop_on_signals(stop)
    node.run()
    return 0


def poet_command(args: argparse.Namespace) -> int:
    import threading

    from smspec.tools.cli import check_output
    from smspec.tools.node.clocked import serve_poet, stop_on_signals

    if os.path.exists(args.data) and not os.path.isdir(args.data):
        raise CliError(f"--data {args.data!r} is a file, expected a directory")
    check_output(args.data, "--data", directory=True)
    genesis = _genesis(args.genesis)
    if not genesis.layer_duration:
        raise CliError(f"--genesis {args.genesis!r} has no layer clock (layer duration 0): its devnet's coordinator "
                       "runs the PoET (devnet rule poet-forwarding)")
    log_file = _log_file(args, args.data, "poet.log")
    os.makedirs(args.data, exist_ok=True)
    configure_logging(log_file, args.log_level)
    stop = threading.Event()
    stop_on_signals(stop)
    try:
        serve_poet(args.data, genesis, args.api_port, args.layers, stop)
    except OSError as error:
        raise CliError(f"cannot serve the PoET on 127.0.0.1:{args.api_port}: {error.strerror or error}") from None
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
    run.add_argument("--listen", default="127.0.0.1:7190", metavar="HOST:PORT",
                     help="gossip address: peers connect here (default 127.0.0.1:7190; port 0: any free port)")
    run.add_argument("--peer", action="append", default=[], metavar="HOST:PORT",
                     help="a peer's gossip address (repeat; the node keeps dialing a peer that is down)")
    run.add_argument("--layers", type=integer(0, 10_000_000, "a layer count"), default=0,
                     help="stop after layer LAYERS-1 of the network (default 0: run until interrupted)")
    run.add_argument("--byzantine", action="store_true", help=argparse.SUPPRESS)  # devnet up --tcp adversary
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

    poet = subparsers.add_parser("poet", help="run the PoET service of a self-clocked network",
                                 description="The PoET service of a self-clocked network (devnet rule poet-server): "
                                             "smeshing services register their challenges for the round of publish "
                                             "epoch e until epoch e starts, then read the round's proof.")
    poet_sub = poet.add_subparsers(dest="poet_command", metavar="COMMAND")
    serve = poet_sub.add_parser("run", help="serve the PoET rounds over HTTP (on 127.0.0.1)")
    serve.add_argument("--data", required=True, metavar="DIR", help="the PoET's directory (its database)")
    serve.add_argument("--genesis", required=True, metavar="FILE", help="the network's genesis.json (its layer clock)")
    serve.add_argument("--api-port", type=integer(0, 65535, "a port"), default=9180,
                       help="serve on 127.0.0.1:PORT (0: any free port; default 9180)")
    serve.add_argument("--layers", type=integer(0, 10_000_000, "a layer count"), default=0,
                       help="stop when layer LAYERS starts (default 0: run until interrupted)")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="INFO", help="log level (default INFO)")
    serve.add_argument("--log-file", metavar="FILE", help="log file (default DIR/poet.log; - for standard error)")
    serve.set_defaults(func=poet_command)
    poet.set_defaults(func=lambda args: poet.print_help() or 2)
