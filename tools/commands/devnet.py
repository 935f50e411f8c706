"""``smspec devnet``, ``smspec tx``: the local devnet of reference nodes and smeshing services.

``smspec devnet up`` arranges N nodes and M smeshing services per node (in this process with a
simulated clock, or with ``--tcp`` as separate ``smspec node run`` / ``smspec smesher run``
processes), runs the layer schedule and prints every layer; ``smspec tx ...`` signs and submits
wallet transactions through a node's API. See docs/devnet.md and docs/node.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

from smspec.tools.cli import CliError, check_output, integer, load_json, real

DEFAULT_API_PORT = 9190
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_API_PORT}"
MAX_NODES = 32
MAX_U64 = 2**64 - 1
MAX_ANSWER_BYTES = 64 * 2**20
MIN_LAYER_SECONDS = 2.0  # a self-clocked layer (tools/node/schedule.py "clocked-phases")
CLOCKED_START_SECONDS = 5  # devnet up --clocked: genesis this long after the directory is made
CLOCKED_RULES = ("clocked-phases", "poet-server", "peer-gossip")  # in force in self-clocked networks only
GENESIS_CHOICES = ("tiny", "testnet-like")  # tools/node/protocol.py GENESIS_CONFIGS (not imported: keeps --help fast)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


# ---------------------------------------------------------------------------------------------
# devnet


def _crash(text: str) -> tuple[int, list]:
    parts = text.split(":")
    try:
        if len(parts) not in (2, 3) or any(len(x) > 9 for x in parts):
            raise ValueError
        values = [int(x) for x in parts]
        if any(v < 0 for v in values):
            raise ValueError
    except ValueError:
        raise CliError(f"--crash {text!r}: expected NODE:LAYER or NODE:LAYER:RESTART_LAYER") from None
    restart = values[2] if len(values) == 3 else None
    if restart is not None and restart <= values[1]:
        raise CliError(f"--crash {text!r}: the restart layer must come after the crash layer")
    return values[0], [values[1], restart]


def _partition(text: str | None, nodes: int) -> dict:
    """--partition GROUP/GROUP[/...]:FROM:UNTIL (a group: node indices joined by commas)."""
    if text is None:
        return {}
    what = f"--partition {text[:80]!r}"
    parts = text.split(":")
    try:
        if len(parts) != 3 or len(text) > 400:
            raise ValueError
        groups = [[int(x) for x in group.split(",")] for group in parts[0].split("/")]
        first, until = int(parts[1]), int(parts[2])
    except ValueError:
        raise CliError(f"{what}: expected GROUP/GROUP:FROM:UNTIL, a group being node indices joined by commas "
                       "(0,1/2,3:12:14)") from None
    listed = sorted(i for group in groups for i in group)
    if len(groups) < 2 or listed != list(range(nodes)):
        raise CliError(f"{what}: two or more groups that hold every node (0..{nodes - 1}) once")
    if not 0 < first < until <= 100000:
        raise CliError(f"{what}: expected 0 < FROM < UNTIL (the partition holds in layers FROM..UNTIL-1)")
    return {"groups": groups, "from": first, "until": until}


def _config(args: argparse.Namespace) -> Any:
    from smspec.tools.node.devnet import DevnetConfig

    if not 1 <= args.nodes <= 32:
        raise CliError(f"--nodes: expected 1..32, got {args.nodes}")
    if not 1 <= args.smeshers <= 8:
        raise CliError(f"--smeshers: expected 1..8 smeshing services per node, got {args.smeshers}")
    layers = args.layers if args.epochs is None else args.epochs * 4
    if not 0 <= layers <= 100000:
        raise CliError(f"--layers: expected 0..100000 (0: run until interrupted), got {layers}")
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
    if args.key_seed is not None:
        try:
            args.key_seed.encode("utf-8")
        except UnicodeEncodeError:
            raise CliError("--key-seed is not valid UTF-8") from None
        if not 1 <= len(args.key_seed) <= 200:
            raise CliError("--key-seed: 1..200 characters")
    _check_set(args, genesis)
    return DevnetConfig(nodes=args.nodes, layers=layers, units=args.units, married=not args.no_marriage,
                        byzantine=tuple(sorted(set(args.byzantine))), crash=crash, transactions=not args.no_txs,
                        post_memo=not args.no_post_memo, verify_memo=not args.no_verify_memo, genesis=genesis,
                        key_seed=args.key_seed,
                        smeshers=args.smeshers, partition=_partition(args.partition, args.nodes),
                        set_size=args.set_size or 0, post=args.post)


def _check_set(args: argparse.Namespace, genesis: str) -> None:
    """--set-size and --post against the other options."""
    if args.set_size is not None and args.set_size < 2 and not args.no_marriage:
        raise CliError(f"--set-size {args.set_size}: a married set needs at least 2 identities (or --no-marriage)")
    if args.post == "best" and genesis != "tiny":
        raise CliError(f"--post best: the {genesis} genesis has another label size than the best-labels PoST of "
                       "the tiny preset the devnet runs; use --genesis tiny")


def _check_datadir(path: str) -> None:
    if os.path.exists(path) and not os.path.isdir(path):
        raise CliError(f"--datadir {path!r} is a file, expected a directory")
    check_output(path, "--datadir", directory=True)
    if os.path.isdir(path) and os.listdir(path) and not os.path.exists(os.path.join(path, "devnet.json")):
        raise CliError(f"--datadir {path!r} is a non-empty directory that holds no devnet")


def _setup_logs(directory: str, level: str, nodes: int) -> list:
    """Per-node log files (in-process devnet): logs/node<i>.log at `level`."""
    import logging

    os.makedirs(os.path.join(directory, "logs"), exist_ok=True)
    handlers = []
    for index in range(nodes):
        handler = logging.FileHandler(os.path.join(directory, "logs", f"node{index}.log"), encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger(f"smspec.node{index}")
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False
        handlers.append((logger, handler))
    return handlers


def up_command(args: argparse.Namespace) -> int:
    from smspec.tools.cli import set_backend_from_args

    backend = set_backend_from_args(args)
    config = _config(args)
    if args.dashboard:  # the page needs the APIs; a coordinated devnet keeps serving after the last layer
        args.serve = not args.clocked
        args.api_port = 0 if args.api_port is None else args.api_port
    if args.serve and args.api_port is None:
        raise CliError("--serve needs --api-port")
    if args.clocked:
        for flag, given in (("--tcp", args.tcp), ("--serve", args.serve), ("--crash", args.crash),
                            ("--byzantine", args.byzantine), ("--pace", args.pace), ("--partition", args.partition)):
            if given:
                raise CliError(f"--clocked runs self-clocked processes: {flag} is for the coordinated devnet")
        if args.layer_seconds and args.layer_seconds < MIN_LAYER_SECONDS:
            raise CliError(f"--layer-seconds {args.layer_seconds:g}: a self-clocked layer lasts at least "
                           f"{MIN_LAYER_SECONDS} s (20 Hare rounds fit in 60 % of it)")
    if args.api_port is not None and args.api_port and args.api_port + config.nodes - 1 > 65535:
        raise CliError(f"--api-port {args.api_port}: node {config.nodes - 1} would need a port above 65535")
    if args.datadir is not None:
        _check_datadir(args.datadir)
    temporary = None
    if args.datadir is None:
        temporary = tempfile.mkdtemp(prefix="smspec-devnet-")
    directory = args.datadir or temporary
    try:
        return _up(args, config, backend, directory, temporary is not None)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def _up(args: argparse.Namespace, config: Any, backend: str, directory: str, temporary: bool) -> int:
    from smspec.tools.node import protocol as p
    from smspec.tools.node.api import ApiServer
    from smspec.tools.node.devnet import Devnet, DevnetConfig
    from smspec.tools.node.schedule import format_progress

    fresh = not os.path.exists(os.path.join(directory, "devnet.json"))
    if not fresh:
        # an existing devnet keeps its configuration; --layers / --epochs may change its length
        from dataclasses import replace

        try:
            with open(os.path.join(directory, "devnet.json"), encoding="utf-8") as f:
                stored = DevnetConfig.from_json(f.read(1 << 20))
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise CliError(f"{directory}/devnet.json is not a devnet configuration: {error}") from None
        given = args.layers_given or args.epochs is not None
        if args.genesis is not None and args.genesis != stored.genesis:
            raise CliError(f"--genesis {args.genesis}: {directory} holds a {stored.genesis} devnet; use a new --datadir")
        if args.clocked and not stored.layer_seconds:
            raise CliError(f"--clocked: {directory} holds a devnet without a layer clock (a coordinator runs it); "
                           "use a new --datadir")
        config = replace(stored, layers=config.layers if given else stored.layers)
    elif args.clocked:
        from dataclasses import replace

        seconds = args.layer_seconds or p.genesis_params(config.genesis, p.modules(backend=backend)).layer_duration_seconds
        config = replace(config, layer_seconds=float(seconds), genesis_time=int(time.time()) + CLOCKED_START_SECONDS)
    say = (lambda *a, **k: None) if args.json else print
    try:
        devnet = Devnet(directory, config, p.modules(backend=backend))
    except (ValueError, RuntimeError, OSError) as error:
        raise CliError(str(error)) from None
    c = devnet.config
    length = "until interrupted (Ctrl-C)" if c.layers == 0 else f"{c.layers} layers"
    say(f"smspec devnet: {c.nodes} nodes, {c.smeshers} smeshing service(s) per node, {length} ({devnet.L} per epoch), "
        f"preset tiny, backend {backend}")
    say(f"genesis configuration: {c.genesis}" + ("" if c.genesis == "tiny" else
        " (the spec's testnet parameters on the tiny modules; devnet rule testnet-like)"))
    say("PoST: " + ("best labels: ATX v3 from epoch 1, one proof per identity set (spec/atx_best.md; devnet rule "
                    "post-best)" if c.post == "best" else "today's: ATX v2, one proof per identity"))
    say(f"data: {directory} ({'temporary, removed at exit' if temporary else 'new' if fresh else 'resuming'}; "
        "one SQLite database per node, keys only in the smeshing services' directories)")
    say("keys: " + (f"derived from --key-seed {c.key_seed!r} (public: for reproducible runs only)" if c.key_seed
                    else "generated at random (users' wallet keys in users.keys.json, mode 0600)"))
    if c.byzantine or c.crash:
        say(f"adversaries: byzantine {list(c.byzantine) or '-'}, crashes {c.crash or '-'}")
    if c.partition:
        say(f"partition: groups {' | '.join(','.join(map(str, g)) for g in c.partition['groups'])} in layers "
            f"{c.partition['from']}..{c.partition['until'] - 1}; at layer {c.partition['until']} every node "
            "reconciles with every peer")
    if not args.quiet:
        say("Devnet rules in force (simplifications of the protocol; docs/devnet.md):")
        not_in_force = ({"poet-forwarding", "tcp-phases", "hare-sync", "post-memo", "verify-memo"} if args.clocked
                        else set(CLOCKED_RULES) | (set() if c.post_memo else {"post-memo"})
                        | (set() if c.verify_memo and not args.tcp else {"verify-memo"}))
        for name, text in p.devnet_rules(c.genesis, c.post):
            if name not in not_in_force:
                say(f"  * {name}: {text}")
    handlers = _setup_logs(directory, args.log_level, c.nodes)
    board = _dashboard(args, directory, c)
    servers: list = []
    served = {"done": False}
    stopping = {"stop": False}

    def stop() -> bool:
        return stopping["stop"]

    def on_signal(number: int, frame: Any) -> None:
        """SIGTERM or a first Ctrl-C: finish the current layer and stop; a second Ctrl-C: now."""
        if stopping["stop"] and number == signal.SIGINT:
            raise KeyboardInterrupt
        stopping["stop"] = True

    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    if threading_main():
        for number in previous:
            signal.signal(number, on_signal)
    started = time.perf_counter()

    def progress(info: Any) -> None:
        if not args.quiet:
            for line in format_progress(info):
                say(line, flush=True)

    try:
        if args.clocked:
            summary = _up_clocked(args, devnet, say, directory, stop, board)
        elif args.tcp:
            from smspec.tools.node.tcp import TcpDevnet

            say("mode: node processes (smspec node run) gossiping over 127.0.0.1 TCP, smeshing-service processes "
                "(smspec smesher run) publishing through their node's HTTP API (devnet rule tcp-phases)")
            if args.api_port:
                say(f"node i API: http://127.0.0.1:{args.api_port}+i (served by the node processes while they run)")
            say(f"logs: {os.path.join(directory, 'logs')}")

            def hold(summary: dict, ping: Any) -> None:
                """--serve: the node processes keep serving (writable) until Ctrl-C."""
                _report(summary, say, args, time.perf_counter() - started, temporary, directory)
                say("serving the API until interrupted (Ctrl-C)", flush=True)
                last = time.monotonic()
                try:
                    while not stop():
                        time.sleep(0.5)
                        if time.monotonic() - last > 20:
                            ping()
                            last = time.monotonic()
                except KeyboardInterrupt:
                    pass
                served["done"] = True

            def started_tcp(cluster: Any) -> None:
                if board is not None:
                    _announce(args, board, {i: cluster.node_url(i) for i in cluster.live_nodes()})

            summary = TcpDevnet(devnet, args.api_port, args.log_level).run(
                progress, pace=args.pace, layer_seconds=args.layer_seconds, stop=stop, started=started_tcp,
                hold=hold if args.serve else None)
        else:
            first = devnet.start()
            if args.api_port is not None:
                for index in range(c.nodes):
                    port = args.api_port + index if args.api_port else 0
                    try:
                        servers.append(ApiServer(devnet.node_dir(index), port, devnet.cluster.hosts[index]).start())
                    except OSError as error:
                        raise CliError(f"--api-port: cannot listen on 127.0.0.1:{port}: {error}") from None
                    say(f"node {index} API: {servers[-1].url}")
            if board is not None:
                _announce(args, board, {i: server.url for i, server in enumerate(servers)})
            del first
            summary = devnet.run(progress, pace=args.pace, layer_seconds=args.layer_seconds, stop=stop)
    except KeyboardInterrupt:
        summary = None
        say("interrupted", flush=True)
    except RuntimeError as error:
        for server in servers:
            server.stop()
        if board is not None:
            board.stop()
        devnet.close()
        raise CliError(str(error)) from None
    finally:
        if threading_main():
            for number, handler in previous.items():
                signal.signal(number, handler)
    if summary is None:
        summary = devnet.summary() if not args.tcp else {"nodes": {}, "agree": False, "state_root": None}
        summary["interrupted"] = True
    if stopping["stop"] and not served["done"]:
        say("interrupted: the layer in progress was finished (the devnet resumes from its directory)", flush=True)
    if not served["done"]:
        _report(summary, say, args, time.perf_counter() - started, temporary, directory)
    if args.serve and not summary.get("interrupted") and not served["done"]:
        say("serving the API until interrupted (Ctrl-C)", flush=True)
        try:
            while not stop():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    for server in servers:
        server.stop()
    if board is not None:
        board.stop()
    devnet.close()
    for logger, handler in handlers:
        logger.removeHandler(handler)
        handler.close()
    if summary.get("interrupted"):
        return 130
    return 0 if summary["agree"] else 1


def _up_clocked(args: argparse.Namespace, devnet: Any, say: Any, directory: str, stop: Any, board: Any) -> dict:
    """--clocked: the PoET, the nodes and the smeshing services as self-clocked processes."""
    from smspec.tools.node.clocked import ClockedDevnet
    from smspec.tools.node.schedule import LayerTiming

    timing = LayerTiming.of(devnet.genesis)
    say(f"mode: self-clocked processes (smspec poet run, smspec node run --listen/--peer, smspec smesher run): "
        f"{timing.duration:g} s per layer from genesis {time.strftime('%H:%M:%S', time.localtime(timing.genesis_time))}"
        " (devnet rules clocked-phases, poet-server, peer-gossip)")
    say(f"logs: {os.path.join(directory, 'logs')}")
    clocked = ClockedDevnet(devnet, args.api_port, args.log_level)

    def progress(layer: int, statuses: dict) -> None:
        if args.quiet:
            return
        roots = {(s.get("applied"), s.get("state_root")) for s in statuses.values()}
        first = next(iter(statuses.values()))
        say(f"layer {layer:3d} (epoch {layer // devnet.L}) | nodes {len(statuses)} | verified "
            f"{min(s.get('verified', -1) for s in statuses.values())} | applied "
            f"{min(s.get('applied', -1) for s in statuses.values())} | ATXs {first.get('atxs', 0)} | proposals "
            f"{first.get('proposals', 0)} | root {str(first.get('state_root', ''))[:14]}"
            f"{'' if len(roots) == 1 else ' (nodes differ)'}", flush=True)

    def started(clocked: Any) -> None:
        if board is not None:
            _announce(args, board, {i: process.url() for i, process in clocked.nodes.items()})

    summary = clocked.run(progress, stop=stop, started=started)
    if devnet.config.post == "best" and not args.quiet:
        for line in clocked.weight_spreads():
            say(line, flush=True)
    return summary


def _dashboard(args: argparse.Namespace, directory: str, config: Any) -> Any:
    """--dashboard: the smeshing services' status servers (tools/dashboard/devnet.py)."""
    if not args.dashboard:
        return None
    from smspec.tools.dashboard.devnet import DevnetDashboard

    try:
        return DevnetDashboard(directory, config)
    except OSError as error:
        raise CliError(f"--dashboard: cannot start the smeshing services' status servers: {error}") from None


def _announce(args: argparse.Namespace, board: Any, node_urls: dict[int, str]) -> None:
    """Print the dashboard's address (on standard error with --json, which prints only the summary)."""
    print(f"dashboard: {board.url(node_urls)}", file=sys.stderr if args.json else sys.stdout, flush=True)


def _report(summary: dict, say: Any, args: argparse.Namespace, elapsed: float, temporary: bool,
            directory: str) -> None:
    summary["seconds"] = round(elapsed, 2)
    summary["datadir"] = None if temporary else directory
    if args.json:
        print(json.dumps(summary, indent=1), flush=True)
        return
    say(f"finished in {elapsed:.1f}s")
    for index, node in sorted(summary["nodes"].items()):
        role = " (byzantine)" if node["byzantine"] else ""
        say(f"  node {index}{role}: applied layer {node['applied']}, verified {node['verified']}, "
            f"state root {node['state_root']}, malicious identities seen {node['malicious_seen']}, "
            f"rejected gossip {sum(node['rejections'].values())}")
    if summary["agree"]:
        honest = sum(1 for n in summary["nodes"].values() if not n["byzantine"])
        say(f"all {honest} honest live nodes agree: state root {summary['state_root']}", flush=True)
    elif summary["nodes"]:
        say("the honest nodes DISAGREE", flush=True)


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def init_command(args: argparse.Namespace) -> int:
    """Write a self-clocked devnet's directory and print the command of each process."""
    import shlex

    from smspec.tools.node import protocol as p
    from smspec.tools.node.clocked import ClockedDevnet
    from smspec.tools.node.devnet import Devnet, DevnetConfig

    low = 1 if args.genesis == "tiny" else 2
    if not low <= args.units <= 4:
        raise CliError(f"--units: the {args.genesis} genesis allows {low}..4 space units, got {args.units}")
    if args.key_seed is not None and not 1 <= len(args.key_seed) <= 200:
        raise CliError("--key-seed: 1..200 characters")
    if args.key_seed is not None:
        try:
            args.key_seed.encode("utf-8")
        except UnicodeEncodeError:
            raise CliError("--key-seed is not valid UTF-8") from None
    path = args.datadir
    if os.path.exists(path) and not os.path.isdir(path):
        raise CliError(f"--datadir {path!r} is a file, expected a directory")
    check_output(path, "--datadir", directory=True)
    if os.path.isdir(path) and os.listdir(path):
        raise CliError(f"--datadir {path!r} is not empty (a new network needs a new directory)")
    if max(args.api_port, args.gossip_port) + args.nodes - 1 > 65535:
        raise CliError(f"--api-port/--gossip-port: node {args.nodes - 1} would need a port above 65535")
    m = p.modules()
    seconds = args.layer_seconds or p.genesis_params(args.genesis, m).layer_duration_seconds
    _check_set(args, args.genesis)
    config = DevnetConfig(nodes=args.nodes, layers=0, units=args.units, married=not args.no_marriage,
                          transactions=False, post_memo=False, key_seed=args.key_seed, genesis=args.genesis,
                          smeshers=args.smeshers, layer_seconds=float(seconds),
                          genesis_time=int(time.time()) + args.genesis_in, set_size=args.set_size or 0,
                          post=args.post)
    try:
        devnet = Devnet(path, config, m)
    except (ValueError, RuntimeError, OSError) as error:
        raise CliError(str(error)) from None
    clocked = ClockedDevnet(devnet)
    commands = clocked.commands([args.gossip_port + i for i in range(args.nodes)],
                                [args.api_port + i for i in range(args.nodes)], args.poet_port)
    devnet.close()
    start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(config.genesis_time))
    print(f"{path}: a self-clocked network of {args.nodes} node(s) and {args.nodes * args.smeshers} smeshing "
          f"service(s); genesis {start} ({config.genesis_time}), {seconds:g} s per layer")
    print("run each process (in its own terminal, or with & and a log file):")
    for command in commands.values():
        print("  smspec " + shlex.join(command))
    return 0


def rules_command(args: argparse.Namespace) -> int:
    from smspec.tools.node.protocol import devnet_rules

    for name, text in devnet_rules(args.genesis, args.post):
        print(f"{name}: {text}")
    return 0


# ---------------------------------------------------------------------------------------------
# tx: HTTP clients of the node API


def check_url(url: str) -> str:
    """An http(s) URL with a host and a valid port, or a one-line error."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise CliError(f"--url {url[:100]!r}: {error}") from None
    if (parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000
            or not re.fullmatch(r"[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+", parts.hostname)):
        raise CliError(f"--url {url[:100]!r}: expected http://HOST:PORT (the node API, e.g. {DEFAULT_URL})")
    return url.rstrip("/")


def answer(what: str, read: Any) -> Any:
    """`read()` over a node's JSON answer; an answer of another shape is a one-line error."""
    try:
        return read()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise CliError(f"unexpected {what} from the node API: {type(error).__name__}: {error}") from None


def request(url: str, path: str, body: dict | None = None) -> Any:
    import http.client
    import urllib.error
    import urllib.request

    url = check_url(url)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            text = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read(1 << 16)).get("message", str(error))
        except (ValueError, AttributeError, RecursionError):
            message = str(error)
        raise CliError(f"{url}{path}: {message}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        raise CliError(f"cannot reach the node API at {url}: {getattr(error, 'reason', error)}") from None
    if len(text) > MAX_ANSWER_BYTES:
        raise CliError(f"{url}{path}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
    return load_json(text, f"the answer of {url}{path}")


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


def _users(args: argparse.Namespace) -> dict[str, bytes]:
    from smspec.tools.node import keys as key_files

    path = args.keys
    if path is None and args.datadir is not None:
        path = os.path.join(args.datadir, "users.keys.json")
    if path is None:
        raise CliError("a devnet user name needs the users' key file: --keys DEVNET/users.keys.json "
                       "(or --datadir DEVNET)")
    try:
        return key_files.read_users(path)
    except key_files.KeyError_ as error:
        raise CliError(str(error)) from None


def _seed(name: str, args: argparse.Namespace, option: str = "--from") -> bytes:
    if name.lower().startswith("0x"):
        return _hex(name, 32, option, "a key seed")
    if not name.isidentifier():
        raise CliError(f"{option} {name!r}: a devnet user name (alice, bob, carol, ...) or a 0x 32-byte seed")
    users = _users(args)
    if name not in users:
        raise CliError(f"{option} {name!r}: no such user in the key file ({', '.join(sorted(users))})")
    return users[name]


def _address(text: str, args: argparse.Namespace, template: bytes, hrp: str) -> bytes:
    from smspec.spec import crypto
    from smspec.tools.node.protocol import rules
    from smspec.tools.node.wallet import wallet_address

    if text.lower().startswith("0x"):
        return _hex(text, 24, "--to", "an address")
    if text.startswith(hrp + "1"):
        try:
            return rules.decode_address(hrp, text)
        except rules.InvalidAddress as error:
            raise CliError(f"--to {text!r}: not an address ({error.reason})") from None
    return wallet_address(template, crypto.public_key(_seed(text, args, "--to")))


MAX_CODE_BYTES = 2**15 - 5  # a template's code in deploy arguments (spec/node.md MAX_TX_ARGS, less its length prefix)


def _selector(text: str) -> bytes:
    """--call: an exported method name (athexp_...) or its 0x 4-byte selector."""
    from smspec.spec import athena

    if text.lower().startswith("0x"):
        return _hex(text, 4, "--call", "a method selector")
    if not text or len(text) > 200 or not all(c.isalnum() or c == "_" for c in text):
        raise CliError(f"--call {text[:80]!r}: an exported method name (athexp_max_spend, ...) or a 0x 4-byte selector")
    return athena.method_selector(text)


def _call_input(text: str) -> bytes:
    """--input: the proxied call's arguments, 0x hex."""
    if not text.lower().startswith("0x"):
        raise CliError(f"--input {text[:80]!r}: expected 0x-hex")
    try:
        data = bytes.fromhex(text[2:])
    except ValueError:
        raise CliError(f"--input {text[:80]!r}: not hex") from None
    if len(data) > MAX_CODE_BYTES - 64:
        raise CliError(f"--input: at most {MAX_CODE_BYTES - 64} bytes")
    return data


def _tx_method(args: argparse.Namespace) -> str:
    """The transaction's method after the options' checks (before any request)."""
    method = "spawn" if args.spawn else args.method
    if args.spawn and args.method not in ("spend", "spawn"):
        raise CliError(f"--spawn and --method {args.method}: choose one")
    if method == "spend" and (args.to is None or args.amount is None):
        raise CliError("a spend needs --to and --amount (or use --spawn)")
    if method == "proxy" and args.to is None:
        raise CliError("a proxy needs --to (the account the wallet calls)")
    if method == "deploy" and args.code is None:
        raise CliError("a deploy needs --code FILE (the template's ELF)")
    for option, value, used_by in (("--call", args.call, "proxy"), ("--input", args.input, "proxy"),
                                   ("--code", args.code, "deploy")):
        if value is not None and method != used_by:
            raise CliError(f"{option} is for --method {used_by}")
    for option, value in (("--to", args.to), ("--amount", args.amount)):
        if value is not None and method in ("spawn", "deploy"):
            raise CliError(f"{option} is for --method spend or proxy")
    return method


def send_command(args: argparse.Namespace) -> int:
    from smspec.tools.cli import read_input
    from smspec.tools.node import protocol as p
    from smspec.tools.node import wallet as w

    check_url(args.url)
    method = _tx_method(args)
    seed = _seed(args.sender, args)
    if args.to is not None and not args.to.lower().startswith(("0x", "stest1", "sm1")):
        _seed(args.to, args, "--to")  # checked before any request
    selector = None if args.call is None else _selector(args.call)
    call_input = None if args.input is None else _call_input(args.input)
    code = None
    if args.code is not None:
        code = read_input(args.code, "--code", MAX_CODE_BYTES)
        if not code:
            raise CliError(f"--code {args.code!r} is empty")
    m = p.modules()
    info = request(args.url, "/node/v1/info")
    genesis_id, template, hrp = answer("node information", lambda: (
        bytes.fromhex(info["genesis_id"]), bytes.fromhex(info["wallet_template"]), str(info["genesis"]["hrp"])))
    principal = w.wallet_address(template, m.crypto.public_key(seed))
    if method == "spawn":
        tx = w.make_spawn(m, genesis_id, template, seed)
    else:
        nonce = args.nonce
        if nonce is None:
            account = request(args.url, "/spacemesh.v2alpha1.AccountService/List",
                              {"addresses": [p.rules.encode_address(hrp, principal)]})["accounts"][0]
            nonce = answer("account", lambda: int(account["projected"]["counter"]))
        if method == "spend":
            tx = w.make_spend(m, genesis_id, template, seed, nonce, _address(args.to, args, template, hrp), args.amount)
        elif method == "proxy":
            tx = w.make_proxy(m, genesis_id, template, seed, nonce, _address(args.to, args, template, hrp), selector,
                              call_input, args.amount or 0)
        else:
            assert code is not None
            tx = w.make_deploy(m, genesis_id, template, seed, nonce, code)
    data = p.encode(tx, p.Tx)
    result = request(args.url, "/spacemesh.v2alpha1.TransactionService/SubmitTransaction",
                     {"transaction": base64.b64encode(data).decode()})
    tid, status = answer("submission", lambda: ("0x" + base64.b64decode(result["txId"]).hex(),
                                                  str(result.get("smspecStatus", result["status"]["message"]))))
    out = {"id": tid, "status": status, "principal": p.rules.encode_address(hrp, principal), "nonce": tx.nonce,
           "method": method}
    if code is not None:
        out["template"] = p.rules.encode_address(hrp, w.template_address(code))
    print(json.dumps(out) if args.json else
          f"submitted {method} {tid} from {out['principal']} (nonce {tx.nonce}): {status}"
          + (f"; the template's address will be {out['template']}" if code is not None else ""))
    return 0 if not status.startswith("rejected:") else 1


def tx_status_command(args: argparse.Namespace) -> int:
    tid = _hex(args.id if args.id.lower().startswith("0x") else "0x" + args.id, 32, "ID", "a transaction ID")
    result = request(args.url, "/spacemesh.v2alpha1.TransactionService/List",
                     {"txid": [base64.b64encode(tid).decode()], "includeState": True, "includeResult": True})
    if not answer("transaction list", lambda: result["transactions"]):
        raise CliError(f"{args.url}: unknown transaction 0x{tid.hex()}")
    out = answer("transaction", lambda: {
        "id": "0x" + tid.hex(), "status": result["transactions"][0].get("smspecStatus"),
        "state": result["transactions"][0].get("txState"),
        "layer": result["transactions"][0].get("txResult", {}).get("layer")})
    print(json.dumps(out))
    return 0


def _set_options(command: argparse.ArgumentParser) -> None:
    """--set-size and --post (devnet up, devnet init)."""
    command.add_argument("--set-size", type=integer(1, 8, "an identity count"), metavar="N",
                         help="identities of node 0's first smeshing service, 1 to 8 (default 2, or 1 with "
                              "--no-marriage): they marry in epoch 2 and publish one merged ATX from epoch 4")
    command.add_argument("--post", choices=("today", "best"), default="today",
                         help="today (default): ATX v2 with today's PoST, one per identity; best: ATX v3 from "
                              "epoch 1 with one best-labels PoST per set (spec/atx_best.md), weight estimated from "
                              "the labels kept (its spread per epoch is printed next to the declared storage)")


class _LayersAction(argparse.Action):
    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        namespace.layers = values
        namespace.layers_given = True


def register(subparsers: argparse._SubParsersAction) -> None:
    devnet = subparsers.add_parser("devnet", help="run a local devnet of reference nodes and smeshing services",
                                   description=__doc__)
    sub = devnet.add_subparsers(dest="devnet_command", metavar="COMMAND")
    up = sub.add_parser("up", help="run (or resume) a devnet and print every layer",
                        description="Run N nodes and M smeshing services per node (in this process with a simulated "
                                    "clock, or with --tcp as separate node and smesher processes): PoST, PoET, ATX v2, "
                                    "proposals, Hare, tortoise and Athena transactions, every node on its own SQLite "
                                    "database, keys only in the smeshing services. Run it again with the same "
                                    "--datadir to resume after an interruption.")
    up.add_argument("--nodes", type=integer(1, MAX_NODES, "a node count"), default=4,
                    help=f"number of nodes, 1 to {MAX_NODES} (default 4)")
    up.add_argument("--smeshers", type=integer(1, 8, "a count"), default=1,
                    help="smeshing services per node (default 1)")
    up.add_argument("--layers", type=integer(0, 100000, "a layer count"), default=20, action=_LayersAction,
                    help="layers to run, from layer 0 (default 20 = 5 epochs; ballots start in epoch 2; "
                         "0: run until interrupted)")
    up.add_argument("--epochs", type=integer(0, 25000, "an epoch count"), help="epochs to run (4 layers each)")
    up.add_argument("--datadir", help="devnet directory (default: a temporary directory, removed at exit); an "
                                      "existing one resumes with its stored options (--layers/--epochs may change "
                                      "its length)")
    up.add_argument("--units", type=integer(1, 64, "a unit count"), default=2,
                    help="PoST space units per identity (tiny genesis: 1..4, testnet-like: 2..4; default 2)")
    up.add_argument("--genesis", choices=GENESIS_CHOICES, default=None,
                    help="genesis configuration of the Configuration tier (default tiny): testnet-like runs the "
                         "spec's testnet parameters (Hare committee 800, tortoise hdist 10, PoST K1/K2 26/37, ...) "
                         "with 4-layer epochs and small PoST data (devnet rule testnet-like)")
    up.add_argument("--key-seed", metavar="TEXT",
                    help="derive every key from TEXT instead of the system's randomness (reproducible runs; the "
                         "keys are then public). --key-seed smspec-devnet reproduces the documented state roots")
    up.add_argument("--byzantine", type=integer(0, MAX_NODES - 1, "a node index"), action="append", default=[],
                    metavar="NODE",
                    help="make a node and its smeshing services byzantine (equivocate, malformed gossip, invalid "
                         "transactions)")
    up.add_argument("--crash", action="append", default=[], metavar="NODE:LAYER[:RESTART]",
                    help="kill a node at a layer (with --tcp: SIGKILL of its process) and optionally restart it "
                         "later from its database")
    up.add_argument("--partition", metavar="GROUP/GROUP:FROM:UNTIL",
                    help="cut gossip between groups of nodes (e.g. 0,1/2,3) in layers FROM..UNTIL-1; at UNTIL every "
                         "node reconciles with every peer")
    up.add_argument("--no-txs", action="store_true", help="no scripted user transactions")
    up.add_argument("--no-marriage", action="store_true",
                    help="node 0's service runs one identity (with --set-size N: N identities that stay unmarried "
                         "until smspec smesher marry)")
    _set_options(up)
    up.add_argument("--no-post-memo", action="store_true",
                    help="every node verifies every PoST itself (slower; see the post-memo devnet rule)")
    up.add_argument("--no-verify-memo", action="store_true",
                    help="every node checks every ballot, certificate and Hare eligibility proof itself (slower; "
                         "see the verify-memo devnet rule)")
    up.add_argument("--tcp", action="store_true",
                    help="node processes gossiping over loopback TCP, smeshing-service processes using their HTTP API")
    up.add_argument("--clocked", action="store_true",
                    help="self-clocked processes, no coordinator: a PoET service, the nodes (gossiping with their "
                         "peers) and the smeshing services, each on the layer clock of the genesis (--layer-seconds, "
                         "default the configuration's)")
    up.add_argument("--api-port", type=integer(0, 65535, "a port"), metavar="PORT",
                    help=f"serve node i's HTTP API on 127.0.0.1:PORT+i (0: any free ports; the docs use "
                         f"{DEFAULT_API_PORT})")
    up.add_argument("--pace", type=real(0, 3600, "seconds"), default=0.0, metavar="SECONDS",
                    help="pause after every layer")
    up.add_argument("--layer-seconds", type=real(0, 3600, "seconds"), default=0.0, metavar="SECONDS",
                    help="wall-clock layers: layer L starts SECONDS after layer L-1 (default 0: simulated clock, "
                         "as fast as possible; a layer that overruns delays the next); with --clocked, the layer "
                         "duration of a new devnet's genesis")
    up.add_argument("--serve", action="store_true", help="with --api-port: keep serving after the last layer")
    up.add_argument("--dashboard", action="store_true",
                    help="serve the live dashboard (docs/dashboard.md) on the node APIs (any free ports unless "
                         "--api-port) and a status server per smeshing service, print its address, and keep "
                         "serving after the last layer (--serve); loopback only")
    up.add_argument("--log-level", choices=LOG_LEVELS, default="INFO",
                    help="level of the per-node log files DATADIR/logs/node<i>.log (default INFO)")
    up.add_argument("--json", action="store_true", help="print only the final summary, as JSON")
    up.add_argument("--quiet", action="store_true", help="no per-layer progress")
    up.add_argument("--backend", choices=("spec", "impl"), default="impl",
                    help="spec modules' implementation (default impl; spec runs the readable code only, slower)")
    up.set_defaults(func=up_command, layers_given=False)
    init = sub.add_parser("init", help="write a self-clocked network's directory (keys, PoST data, genesis)",
                          description="Write the directory of a self-clocked network: the genesis (its layer clock "
                                      "starts --genesis-in seconds from now), each smeshing service's keys (0600) "
                                      "and PoST data, the users' wallet keys; print the command of every process "
                                      "to run (smspec poet run, smspec node run, smspec smesher run).")
    init.add_argument("--datadir", required=True, help="the new network's directory (must not exist or be empty)")
    init.add_argument("--nodes", type=integer(1, MAX_NODES, "a node count"), default=3,
                      help=f"number of nodes, 1 to {MAX_NODES} (default 3)")
    init.add_argument("--smeshers", type=integer(1, 8, "a count"), default=1,
                      help="smeshing services per node (default 1)")
    init.add_argument("--units", type=integer(1, 64, "a unit count"), default=2,
                      help="PoST space units per identity (tiny genesis: 1..4, testnet-like: 2..4; default 2)")
    init.add_argument("--genesis", choices=GENESIS_CHOICES, default="tiny",
                      help="genesis configuration of the Configuration tier (default tiny)")
    init.add_argument("--layer-seconds", type=real(MIN_LAYER_SECONDS, 3600, "seconds"), metavar="SECONDS",
                      help="layer duration (default: the configuration's, 6 s for tiny)")
    init.add_argument("--genesis-in", type=integer(0, 86400, "seconds"), default=20, metavar="SECONDS",
                      help="the genesis time: this many seconds from now (default 20)")
    init.add_argument("--key-seed", metavar="TEXT", help="derive every key from TEXT (public: reproducible runs only)")
    init.add_argument("--no-marriage", action="store_true",
                      help="node 0's first service runs one identity (with --set-size N: N unmarried identities)")
    _set_options(init)
    init.add_argument("--api-port", type=integer(1, 65535, "a port"), default=DEFAULT_API_PORT,
                      help=f"node i's API port in the printed commands: PORT+i (default {DEFAULT_API_PORT})")
    init.add_argument("--gossip-port", type=integer(1, 65535, "a port"), default=7190,
                      help="node i's gossip port in the printed commands: PORT+i (default 7190)")
    init.add_argument("--poet-port", type=integer(1, 65535, "a port"), default=9180,
                      help="the PoET's API port in the printed commands (default 9180)")
    init.set_defaults(func=init_command)
    rules = sub.add_parser("rules", help="list the devnet rules (what the devnet simplifies or defines itself)")
    rules.add_argument("--genesis", choices=GENESIS_CHOICES, default="tiny",
                       help="list the rules in force for this genesis configuration (default tiny)")
    rules.add_argument("--post", choices=("today", "best"), default="today",
                       help="list the rules in force with this PoST (default today)")
    rules.set_defaults(func=rules_command)
    devnet.set_defaults(func=lambda args: devnet.print_help() or 2)

    tx = subparsers.add_parser("tx", help="submit and inspect devnet transactions (node HTTP API)")
    tx_sub = tx.add_subparsers(dest="tx_command", metavar="COMMAND")
    send = tx_sub.add_parser("send", help="sign and submit a wallet transaction: spawn, spend, proxy or deploy",
                             description="Sign a transaction of a devnet user's wallet and submit it through a "
                                         "node's API: spend (--to, --amount), spawn (--spawn), proxy (--method proxy "
                                         "--to ACCOUNT [--call METHOD] [--input HEX] [--amount N]: the wallet calls "
                                         "the account, running METHOD or, without one, its receive) or deploy "
                                         "(--method deploy --code FILE: a template's ELF).")
    send.add_argument("--url", default=DEFAULT_URL, help=f"node API (default {DEFAULT_URL})")
    send.add_argument("--from", dest="sender", default="alice",
                      help="the wallet owner: a user name of the key file (alice, bob, ...) or a 0x 32-byte key seed")
    send.add_argument("--to", help="recipient (spend) or called account (proxy): a user name, a bech32 address or "
                                   "a 0x 24-byte address")
    send.add_argument("--amount", type=integer(1, MAX_U64, "an amount (u64)"),
                      help="amount to send (1..2^64-1; a proxy sends none by default)")
    send.add_argument("--nonce", type=integer(0, MAX_U64, "a nonce (u64)"),
                      help="nonce (default: the account's projected nonce, counting every waiting transaction)")
    send.add_argument("--spawn", action="store_true", help="spawn the sender's wallet (= --method spawn)")
    send.add_argument("--method", choices=("spend", "spawn", "proxy", "deploy"), default="spend",
                      help="the wallet method the transaction runs (default spend)")
    send.add_argument("--call", metavar="METHOD",
                      help="proxy: the method to run on --to (an exported name such as athexp_max_spend, or a 0x "
                           "4-byte selector); default none: a plain transfer, which a wallet takes with receive")
    send.add_argument("--input", metavar="HEX", help="proxy: the called method's SCALE arguments (0x hex)")
    send.add_argument("--code", metavar="FILE", help="deploy: the template's code (an ELF, at most 32 KiB)")
    send.add_argument("--keys", metavar="FILE", help="the devnet users' key file (DEVNET/users.keys.json)")
    send.add_argument("--datadir", metavar="DEVNET", help="the devnet directory (finds its users.keys.json)")
    send.add_argument("--json", action="store_true", help="print JSON")
    send.set_defaults(func=send_command)
    show = tx_sub.add_parser("status", help="status of a transaction by ID")
    show.add_argument("id", help="transaction ID (0x hex)")
    show.add_argument("--url", default=DEFAULT_URL, help=f"node API (default {DEFAULT_URL})")
    show.set_defaults(func=tx_status_command)
    tx.set_defaults(func=lambda args: tx.print_help() or 2)


if __name__ == "__main__":
    sys.exit(2)
