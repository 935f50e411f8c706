"""``smspec devnet``, ``smspec node``, ``smspec tx``: the reference node's local devnet and its API.

``smspec devnet up`` runs N nodes in one process with a simulated clock (tiny genesis configuration
by default, or testnet-like; one SQLite database per node) and prints every layer; ``smspec node status`` and ``smspec tx ...`` talk to a
node's HTTP JSON API (``devnet up --api-port``) or read a node's database. See docs/devnet.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any

from smspec.tools.cli import CliError, check_output, integer, load_json, real

DEFAULT_URL = "http://127.0.0.1:9190"
MAX_NODES = 32
MAX_U64 = 2**64 - 1
GENESIS_CHOICES = ("tiny", "testnet-like")  # tools/node/protocol.py GENESIS_CONFIGS (not imported: keeps --help fast)


# ---------------------------------------------------------------------------------------------
# devnet


def _crash(text: str) -> tuple[int, list]:
    parts = text.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        values = [int(x) for x in parts]
    except ValueError:
        raise CliError(f"--crash {text!r}: expected NODE:LAYER or NODE:LAYER:RESTART_LAYER") from None
    restart = values[2] if len(values) == 3 else None
    if values[1] < 0:
        raise CliError(f"--crash {text!r}: the crash layer must not be negative")
    if restart is not None and restart <= values[1]:
        raise CliError(f"--crash {text!r}: the restart layer must come after the crash layer")
    return values[0], [values[1], restart]


def _config(args: argparse.Namespace) -> Any:
    from smspec.tools.node.devnet import DevnetConfig

    if not 1 <= args.nodes <= 32:
        raise CliError(f"--nodes: expected 1..32, got {args.nodes}")
    layers = args.layers if args.epochs is None else args.epochs * 4
    if not 1 <= layers <= 100000:
        raise CliError(f"--layers: expected 1..100000, got {layers}")
    genesis = args.genesis or "tiny"
    low = 1 if genesis == "tiny" else 2  # testnet-like: the testnet preset's MIN_NUM_UNITS
    if not low <= args.units <= 4:
        raise CliError(f"--units: the {genesis} genesis allows {low}..4 space units, got {args.units}")
    for index in args.byzantine:
        if not 0 <= index < args.nodes:
            raise CliError(f"--byzantine {index}: no such node (0..{args.nodes - 1})")
    crash = dict(_crash(text) for text in args.crash)
    for index in crash:
        if not 0 <= index < args.nodes:
            raise CliError(f"--crash: no node {index} (0..{args.nodes - 1})")
    return DevnetConfig(nodes=args.nodes, layers=layers, units=args.units, married=not args.no_marriage,
                        byzantine=tuple(sorted(set(args.byzantine))), crash=crash, transactions=not args.no_txs,
                        post_memo=not args.no_post_memo, genesis=genesis)


def _api_servers(devnet: Any, port: int, say: Any) -> list:
    """Serve node i's API (read from its database) on 127.0.0.1:port+i (port 0: any free ports)."""
    from smspec.tools.node.api import ApiServer

    servers: list = []
    for index in range(devnet.config.nodes):
        try:
            servers.append(ApiServer(devnet.node_dir(index), port + index if port else 0).start())
        except OSError as error:
            for server in servers:
                server.stop()
            raise CliError(f"--api-port: cannot listen on 127.0.0.1:{port + index}: {error}") from None
        say(f"node {index} API: {servers[-1].url}", flush=True)
    return servers


def up_command(args: argparse.Namespace) -> int:
    from smspec.tools.cli import set_backend_from_args

    backend = set_backend_from_args(args)
    config = _config(args)
    if not 0 <= args.layer_seconds <= 3600 or not 0 <= args.pace <= 3600:
        raise CliError("--layer-seconds and --pace: expected 0..3600 seconds")
    if args.serve and args.api_port is None:
        raise CliError("--serve: needs --api-port PORT (the API it keeps serving)")
    if args.api_port and args.api_port + config.nodes - 1 > 65535:
        raise CliError(f"--api-port {args.api_port}: node {config.nodes - 1} would need port "
                       f"{args.api_port + config.nodes - 1} (> 65535)")
    if args.datadir is not None:
        check_output(args.datadir, "--datadir", directory=True)
    from smspec.tools.node import protocol as p
    from smspec.tools.node.devnet import Devnet, format_progress

    directory = args.datadir or tempfile.mkdtemp(prefix="smspec-devnet-")
    fresh = not os.path.exists(os.path.join(directory, "devnet.json"))
    if not fresh:
        # an existing devnet keeps its configuration; --layers / --epochs may change its length
        from dataclasses import replace

        from smspec.tools.node.devnet import DevnetConfig

        try:
            with open(os.path.join(directory, "devnet.json"), encoding="utf-8") as f:
                stored = DevnetConfig.from_json(f.read(1 << 20))
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise CliError(f"{directory}/devnet.json is not a devnet configuration: {error}") from None
        given = args.layers_given or args.epochs is not None
        if args.genesis is not None and args.genesis != stored.genesis:
            raise CliError(f"--genesis {args.genesis}: {directory} holds a {stored.genesis} devnet; use a new --datadir")
        config = replace(stored, layers=config.layers if given else stored.layers)
    say = (lambda *a, **k: None) if args.json else print
    try:
        devnet = Devnet(directory, config, p.modules(backend=backend))
    except (ValueError, RuntimeError) as error:
        raise CliError(str(error)) from None
    c = devnet.config
    say(f"smspec devnet: {c.nodes} nodes, {c.layers} layers ({devnet.L} per epoch), preset tiny, backend {backend}")
    say(f"genesis configuration: {c.genesis}" + ("" if c.genesis == "tiny" else
        " (the spec's testnet parameters on the tiny modules; devnet rule testnet-like)"))
    say(f"data: {directory} ({'new' if fresh else 'resuming'}; one SQLite database per node)")
    if c.byzantine or c.crash:
        say(f"adversaries: byzantine {list(c.byzantine) or '-'}, crashes {c.crash or '-'}")
    if not args.quiet:
        say("Devnet rules in force (simplifications of the protocol; docs/devnet.md):")
        for name, text in p.devnet_rules(c.genesis):
            if name == "post-memo" and not c.post_memo:
                continue
            say(f"  * {name}: {text}")
    servers = []
    if args.api_port is not None and args.tcp:
        say(f"node i API: http://127.0.0.1:{args.api_port}+i (served by the node processes while they run)")
    if args.api_port is not None and not args.tcp:
        for index in range(c.nodes):
            devnet.open_node(index) if devnet.nodes[index] is None else None
        servers = _api_servers(devnet, args.api_port, say)
        for index in range(c.nodes):
            if devnet.nodes[index] is not None:
                devnet.nodes[index].close()
                devnet.nodes[index] = None
    started = time.perf_counter()

    def progress(info: Any) -> None:
        if not args.quiet:
            for line in format_progress(info):
                say(line, flush=True)

    try:
        if args.tcp:
            from smspec.tools.node.tcp import TcpDevnet, format_tcp_progress

            say("mode: one process per node, gossip over 127.0.0.1 TCP (devnet rule tcp-phases)")
            summary = TcpDevnet(devnet, args.api_port).run(
                lambda info: None if args.quiet else say(format_tcp_progress(info), flush=True), pace=args.pace,
                layer_seconds=args.layer_seconds)
        else:
            summary = devnet.run(progress, pace=args.pace, layer_seconds=args.layer_seconds)
    except KeyboardInterrupt:
        devnet.close()
        raise
    except RuntimeError as error:
        devnet.close()
        raise CliError(str(error)) from None
    elapsed = time.perf_counter() - started
    summary["seconds"] = round(elapsed, 2)
    summary["datadir"] = directory
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        say(f"finished {c.layers} layers in {elapsed:.1f}s")
        for index, node in sorted(summary["nodes"].items()):
            role = " (byzantine)" if node["byzantine"] else ""
            say(f"  node {index}{role}: applied layer {node['applied']}, verified {node['verified']}, "
                f"state root {node['state_root']}, malicious identities seen {node['malicious_seen']}, "
                f"rejected gossip {sum(node['rejections'].values())}")
        if summary["agree"]:
            honest = sum(1 for n in summary["nodes"].values() if not n["byzantine"])
            say(f"all {honest} honest live nodes agree: state root {summary['state_root']}")
        else:
            say("the honest nodes DISAGREE")
    if args.serve:
        if args.tcp:  # the node processes have stopped: their databases are served from here on
            servers = _api_servers(devnet, args.api_port, say)
        say("serving the API until interrupted (Ctrl-C)", flush=True)
        devnet.close()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    for server in servers:
        server.stop()
    devnet.close()
    return 0 if summary["agree"] else 1


def rules_command(args: argparse.Namespace) -> int:
    from smspec.tools.node.protocol import devnet_rules

    for name, text in devnet_rules(args.genesis):
        print(f"{name}: {text}")
    return 0


# ---------------------------------------------------------------------------------------------
# node / tx: HTTP clients


MAX_ANSWER_BYTES = 64 * 2**20


def _check_url(url: str) -> str:
    """An http(s) URL with a host and a valid port, or a one-line error."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise CliError(f"--url {url!r}: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"--url {url!r}: expected http://HOST:PORT (the node API, e.g. {DEFAULT_URL})")
    return url


def _request(url: str, path: str, body: dict | None = None) -> Any:
    import http.client

    _check_url(url)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read(1 << 16)).get("error", str(error))
        except (ValueError, AttributeError, RecursionError):
            message = str(error)
        raise CliError(f"{url}{path}: {message}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        raise CliError(f"cannot reach the node API at {url}: {getattr(error, 'reason', error)}") from None
    if len(answer) > MAX_ANSWER_BYTES:
        raise CliError(f"{url}{path}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
    return load_json(answer, f"the answer of {url}{path}")


def _answer(what: str, read: Any) -> Any:
    """`read()` over a node's JSON answer; an answer of another shape is a one-line error."""
    try:
        return read()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise CliError(f"unexpected {what} from the node API: {type(error).__name__}: {error}") from None


def _view(args: argparse.Namespace) -> Any:
    from smspec.tools.node.api import NodeView

    path = args.datadir
    if os.path.exists(os.path.join(path, "devnet.json")):
        path = os.path.join(path, f"node{args.node}")
    try:
        return NodeView(path)
    except FileNotFoundError as error:
        raise CliError(str(error)) from None


def status_command(args: argparse.Namespace) -> int:
    import sqlite3

    if args.datadir:
        try:
            status = _view(args).status()
        except (sqlite3.Error, ValueError) as error:
            raise CliError(f"--datadir {args.datadir!r}: not a readable node database: {error}") from None
    else:
        status = _request(args.url, "/status")
    if args.json:
        print(json.dumps(status, indent=1))
        return 0
    if not status:
        raise CliError("the node has not finished a layer yet")
    lines = _answer("status", lambda: [
        f"node {status['node']}: layer {status['layer']}, verified {status['verified']}, applied {status['applied']}",
        f"state root {status['state_root']}",
        f"ATXs {status['atxs']}, proposals {status['proposals']}, blocks {status['blocks']}, "
        f"malicious identities {len(status['malicious'])}",
        *(["rejected: " + ", ".join(f"{k} x{v}" for k, v in sorted(status["rejections"].items()))]
          if status["rejections"] else []),
    ])
    print("\n".join(lines))
    return 0


def _hex(text: str, size: int, option: str, what: str) -> bytes:
    if not text.lower().startswith("0x"):
        raise CliError(f"{option} {text[:80]!r}: expected 0x-hex")
    try:
        data = bytes.fromhex(text[2:])
    except ValueError:
        raise CliError(f"{option} {text[:80]!r}: not hex") from None
    if len(data) != size:
        raise CliError(f"{option}: {what} is {size} bytes, got {len(data)}")
    return data


def _seed(name: str, devnet_seed: str, option: str = "--from") -> bytes:
    from smspec.tools.node.devnet import user_key_seed

    if name.lower().startswith("0x"):
        return _hex(name, 32, option, "a key seed")
    if not name.isidentifier():
        raise CliError(f"{option} {name!r}: a devnet user name (alice, bob, carol, ...) or a 0x 32-byte seed")
    return user_key_seed(devnet_seed, name)


def _address(text: str, genesis: dict, devnet_seed: str) -> bytes:
    from smspec.spec import crypto
    from smspec.tools.node.wallet import wallet_address

    if text.lower().startswith("0x"):
        return _hex(text, 24, "--to", "an address")
    template = bytes.fromhex(genesis["wallet_template"][2:])
    return wallet_address(template, crypto.public_key(_seed(text, devnet_seed, "--to")))


def send_command(args: argparse.Namespace) -> int:
    from smspec.tools.node import protocol as p
    from smspec.tools.node import wallet as w

    try:
        args.devnet_seed.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError("--devnet-seed is not valid UTF-8") from None
    seed = _seed(args.sender, args.devnet_seed)
    if args.to is not None:  # checked before any request
        _hex(args.to, 24, "--to", "an address") if args.to.lower().startswith("0x") else _seed(
            args.to, args.devnet_seed, "--to")
    if not args.spawn and args.amount is not None and not 0 < args.amount < 2**64:
        raise CliError(f"--amount: expected 1..2^64-1, got {args.amount}")
    m = p.modules()
    genesis = _request(args.url, "/genesis")
    genesis_id, template = _answer("genesis", lambda: (bytes.fromhex(genesis["genesis_id"][2:]),
                                                       bytes.fromhex(genesis["wallet_template"][2:])))
    principal = w.wallet_address(template, m.crypto.public_key(seed))
    if args.spawn:
        tx = w.make_spawn(m, genesis_id, template, seed)
    else:
        if args.to is None or args.amount is None:
            raise CliError("a spend needs --to and --amount (or use --spawn)")
        if not 0 < args.amount < 2**64:
            raise CliError(f"--amount: expected 1..2^64-1, got {args.amount}")
        nonce = args.nonce
        if nonce is None:
            account = _request(args.url, f"/accounts/0x{principal.hex()}")
            nonce = _answer("account", lambda: int(account["next_nonce"]))
        tx = w.make_spend(m, genesis_id, template, seed, nonce, _address(args.to, genesis, args.devnet_seed), args.amount)
    result = _request(args.url, "/tx", {"tx": "0x" + p.encode(tx, p.Tx).hex()})
    print(json.dumps({**result, "principal": "0x" + principal.hex(), "nonce": tx.nonce}) if args.json
          else f"submitted {result['id']} from 0x{principal.hex()} (nonce {tx.nonce}): {result['status']}")
    return 0


def tx_status_command(args: argparse.Namespace) -> int:
    tx_id = _hex(args.id, 32, "ID", "a transaction ID")
    result = _request(args.url, f"/txs/0x{tx_id.hex()}")
    print(json.dumps(result))
    return 0


class _LayersAction(argparse.Action):
    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        namespace.layers = values
        namespace.layers_given = True


def register(subparsers: argparse._SubParsersAction) -> None:
    devnet = subparsers.add_parser("devnet", help="run a local devnet of reference nodes (in-process, simulated clock)",
                                   description=__doc__)
    sub = devnet.add_subparsers(dest="devnet_command", metavar="COMMAND")
    up = sub.add_parser("up", help="run (or resume) a devnet and print every layer",
                        description="Run N nodes in one process with a simulated clock (or, with --tcp, one "
                                    "process per node gossiping over loopback TCP): PoST, PoET, ATX v2, proposals, "
                                    "Hare, tortoise and Athena transactions, every node on its own SQLite database. "
                                    "Run it again with the same --datadir to resume after an interruption.")
    up.add_argument("--nodes", type=integer(1, MAX_NODES, "a node count"), default=4,
                    help=f"number of nodes, 1 to {MAX_NODES} (default 4)")
    up.add_argument("--layers", type=integer(1, 100_000, "a layer count"), default=20, action=_LayersAction,
                    help="layers to run, from layer 0 (default 20 = 5 epochs; ballots start in epoch 2)")
    up.add_argument("--epochs", type=integer(1, 25_000, "an epoch count"),
                    help="epochs to run (4 layers each; overrides --layers)")
    up.add_argument("--datadir", help="devnet directory (default: a new temporary directory); an existing one "
                                      "resumes with its stored options (--layers/--epochs may change its length)")
    up.add_argument("--units", type=integer(1, 4, "a space-unit count"), default=2,
                    help="PoST space units per identity (tiny genesis: 1..4, testnet-like: 2..4; default 2)")
    up.add_argument("--genesis", choices=GENESIS_CHOICES, default=None,
                    help="genesis configuration (default tiny): tiny is the tiny preset; testnet-like runs the spec's "
                         "testnet parameters (Hare committee 800, tortoise hdist 10, PoST K1/K2 26/37, ...) with "
                         "4-layer epochs and small PoST data (devnet rule testnet-like); a resumed devnet keeps its own")
    up.add_argument("--byzantine", type=integer(0, MAX_NODES - 1, "a node index"), action="append", default=[],
                    metavar="NODE",
                    help="make a node byzantine (equivocates, sends malformed gossip and invalid transactions)")
    up.add_argument("--crash", action="append", default=[], metavar="NODE:LAYER[:RESTART]",
                    help="kill a node at a layer (with --tcp: SIGKILL of its process) and optionally restart it "
                         "later from its database")
    up.add_argument("--no-txs", action="store_true", help="no user transactions")
    up.add_argument("--no-marriage", action="store_true", help="node 0 runs one identity (no married/merged set)")
    up.add_argument("--no-post-memo", action="store_true",
                    help="every node verifies every PoST itself (slower; see the post-memo devnet rule)")
    up.add_argument("--tcp", action="store_true",
                    help="run every node in its own process, gossiping over loopback TCP")
    up.add_argument("--api-port", type=integer(0, 65535, "a TCP port"), metavar="PORT",
                    help="serve node i's HTTP JSON API on 127.0.0.1:PORT+i (0: any free ports)")
    up.add_argument("--pace", type=real(0, 3600, "seconds"), default=0.0, metavar="SECONDS",
                    help="pause after every layer")
    up.add_argument("--layer-seconds", type=real(0, 3600, "seconds"), default=0.0, metavar="SECONDS",
                    help="wall-clock layers: layer L starts SECONDS after layer L-1 (default 0: simulated clock, "
                         "as fast as possible; a layer that overruns delays the next)")
    up.add_argument("--serve", action="store_true",
                    help="with --api-port: keep serving the nodes' API after the last layer, until Ctrl-C")
    up.add_argument("--json", action="store_true", help="print only the final summary, as JSON")
    up.add_argument("--quiet", action="store_true", help="no per-layer progress")
    up.add_argument("--backend", choices=("spec", "impl"), default="impl",
                    help="spec modules' implementation (default impl; spec runs the readable code only, slower)")
    up.set_defaults(func=up_command, layers_given=False)
    rules = sub.add_parser("rules", help="list the devnet rules (what the devnet simplifies or defines itself)")
    rules.add_argument("--genesis", choices=GENESIS_CHOICES, default="tiny",
                       help="list the rules in force for this genesis configuration (default tiny)")
    rules.set_defaults(func=rules_command)
    devnet.set_defaults(func=lambda args: devnet.print_help() or 2)

    node = subparsers.add_parser("node", help="query a devnet node (HTTP API or its database)")
    node_sub = node.add_subparsers(dest="node_command", metavar="COMMAND")
    status = node_sub.add_parser("status", help="layer, verified layer, state root and counts of a node")
    status.add_argument("--url", default=DEFAULT_URL, help=f"node API (default {DEFAULT_URL})")
    status.add_argument("--datadir", help="read a node directory (or a devnet directory with --node) instead")
    status.add_argument("--node", type=integer(0, MAX_NODES - 1, "a node index"), default=0,
                        help="node index within a devnet directory (default 0)")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=status_command)
    node.set_defaults(func=lambda args: node.print_help() or 2)

    tx = subparsers.add_parser("tx", help="submit and inspect devnet transactions (node HTTP API)")
    tx_sub = tx.add_subparsers(dest="tx_command", metavar="COMMAND")
    send = tx_sub.add_parser("send", help="sign and submit a wallet spend (or spawn) transaction")
    send.add_argument("--url", default=DEFAULT_URL, help=f"node API (default {DEFAULT_URL})")
    send.add_argument("--from", dest="sender", default="alice",
                      help="the wallet owner: a devnet user name (alice, bob) or a 0x 32-byte key seed")
    send.add_argument("--to", help="recipient: a devnet user name or a 0x 24-byte address")
    send.add_argument("--amount", type=integer(1, MAX_U64, "an amount (u64)"), help="amount to send")
    send.add_argument("--nonce", type=integer(0, MAX_U64, "a nonce (u64)"),
                      help="nonce (default: the account's next nonce from the API, counting its waiting transactions)")
    send.add_argument("--spawn", action="store_true", help="spawn the sender's wallet instead of spending")
    send.add_argument("--devnet-seed", default="smspec-devnet", help="the devnet's seed (names devnet users' keys)")
    send.add_argument("--json", action="store_true", help="print JSON")
    send.set_defaults(func=send_command)
    show = tx_sub.add_parser("status", help="status of a transaction by ID")
    show.add_argument("id", help="transaction ID (0x hex)")
    show.add_argument("--url", default=DEFAULT_URL, help=f"node API (default {DEFAULT_URL})")
    show.set_defaults(func=tx_status_command)
    tx.set_defaults(func=lambda args: tx.print_help() or 2)


if __name__ == "__main__":
    sys.exit(2)
