"""``smspec smesher``: run a smeshing service (docs/node.md).

``smspec smesher run --keys DIR --post DIR --node URL [--node URL2] --poet URL`` holds the
identities' keys (``DIR/<name>.key``, mode 0600) and PoST data (``POST/<name>/`` as ``smspec
post init`` makes it), registers its identities' challenges at the PoET service, builds and
signs every message of its identities and publishes it through the first node that answers. It
follows the layer clock of the network its nodes run (their genesis); ``smspec devnet up --tcp``
starts smeshing services that take their duties from its coordinator instead (``--coordinated``).
``smspec smesher check`` verifies keys and PoST data without running. ``smspec smesher serve``
(and ``smesher run --status-port``) serves a service's read-only status API and dashboard
(docs/dashboard.md).

``smspec smesher marry --identities A,B,...`` and ``smspec smesher merge`` commit identities of
the service to one set and then to one merged ATX; they record the decision in the service's
database (its keys directory), after asking a node whether the protocol would punish it (a
double marriage, a double merge), and the service carries it out at its next ATX phase.
``smspec smesher sets`` shows each set: members and their PoST, the marriage, the next merged
ATX (docs/node.md "Identity sets: marry and merge").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from smspec.tools.cli import CliError, check_output, integer

DEFAULT_STATUS_PORT = 9290  # smesher serve (the node API's default is 9190)


def _smesher(args: argparse.Namespace, nodes: list) -> Any:
    from smspec.tools.node import protocol as p
    from smspec.tools.node.smesher import Smesher, SmesherError

    for option, path in (("--keys", args.keys), ("--post", args.post)):
        if not os.path.isdir(path):
            raise CliError(f"{option} {path!r}: no such directory")
    try:
        return Smesher(args.keys, args.post, nodes, p.modules(), None, None, getattr(args, "married", False))
    except SmesherError as error:
        raise CliError(str(error)) from None


def run_command(args: argparse.Namespace) -> int:
    from smspec.tools.commands.devnet import check_url
    from smspec.tools.commands.node import configure_logging
    from smspec.tools.node.smesher import SmesherError
    from smspec.tools.node.tcp import SmesherProcess

    urls = [check_url(url) for url in args.node]
    for option, path in (("--keys", args.keys), ("--post", args.post)):
        if not os.path.isdir(path):
            raise CliError(f"{option} {path!r}: no such directory")
    if args.log_file not in (None, "-"):
        check_output(args.log_file, "--log-file")
    if args.coordinated:
        try:
            process = SmesherProcess(args.keys, args.post, urls, args.byzantine, args.married, args.log_level)
        except SmesherError as error:
            raise CliError(str(error)) from None
        configure_logging(args.log_file or os.path.join(args.keys, "smesher.log"), args.log_level)
        with _status_server(args, args.status_port, urls):
            process.serve()
        return 0
    if args.poet is None:
        raise CliError("--poet URL: the PoET service to register at is required (smspec poet run serves one)")
    poet = check_url(args.poet)
    import threading

    from smspec.tools.node.clocked import ClockedSmesher, stop_on_signals

    stop = threading.Event()
    log_file = args.log_file or os.path.join(args.keys, "smesher.log")
    try:
        service = ClockedSmesher(args.keys, args.post, urls, poet, args.married, args.layers, stop=stop,
                                 log_file=log_file, log_level=args.log_level)
    except SmesherError as error:
        raise CliError(str(error)) from None
    configure_logging(log_file, args.log_level)
    stop_on_signals(stop)
    with _status_server(args, args.status_port, urls):
        service.run()
    return 0


@contextlib.contextmanager
def _status_server(args: argparse.Namespace, port: int | None, urls: list[str]) -> Iterator[None]:
    """The service's status API and dashboard on 127.0.0.1:`port` while the block runs
    (tools/node/smesher_api.py); nothing without a port."""
    if port is None:
        yield
        return
    import sys

    from smspec.tools.node.smesher_api import serve_status

    try:
        server = serve_status(args.keys, args.post, port, urls)
    except OSError as error:
        raise CliError(f"cannot listen on 127.0.0.1:{port}: {error}") from None
    # standard error: a coordinated service's standard output carries its port line to the coordinator
    print(f"smeshing service status: {server.url} (dashboard: {server.url}/dashboard)", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        server.stop()


def serve_command(args: argparse.Namespace) -> int:
    import time

    from smspec.tools.commands.devnet import check_url

    urls = [check_url(url) for url in args.node or []]
    for option, path in (("--keys", args.keys), ("--post", args.post)):
        if not os.path.isdir(path):
            raise CliError(f"{option} {path!r}: no such directory")
    with _status_server(args, args.port, urls):
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def check_command(args: argparse.Namespace) -> int:
    smesher = _smesher(args, [])
    out = {ident.name: {"node_id": "0x" + ident.key.hex(), "units": ident.units} for ident in smesher.identities}
    smesher.close()
    print(json.dumps(out, indent=1))
    return 0


def states_command(args: argparse.Namespace) -> int:
    smesher = _smesher(args, [])
    print(json.dumps(smesher.identity_states(), indent=1))
    smesher.close()
    return 0


MAX_NAMES = 256  # identities one command may name (the sub-posts of one ATX)


def _identity_names(text: str) -> list[str]:
    """`--identities A,B,...`: identity names (key file names) of the service."""
    names = text.split(",")
    if len(names) > MAX_NAMES:
        raise CliError(f"--identities: at most {MAX_NAMES} names")
    for name in names:
        if not name or len(name) > 200 or not all(c.isalnum() or c in "._-" for c in name):
            raise CliError(f"--identities {text[:80]!r}: expected comma-separated identity names (the key files' names)")
    return names


def _set_operation(args: argparse.Namespace, operation: str) -> int:
    from smspec.tools.commands.devnet import check_url
    from smspec.tools.node import sets
    from smspec.tools.node.smesher import HttpNodeClient

    names = None if args.identities is None else _identity_names(args.identities)
    urls = [check_url(url) for url in args.node or []]
    if not urls and not args.force:
        raise CliError(f"smesher {operation}: --node URL is needed to check what the network knows (or --force)")
    smesher = _smesher(args, [HttpNodeClient(url, timeout=10) for url in urls])
    try:
        if operation == "marry":
            result = sets.marry(smesher, names or [], args.force)
        else:
            result = sets.merge(smesher, names, args.force)
    except sets.SetRefused as refused:
        raise CliError(f"refused ({refused.reason}): {refused}; --force records it anyway") from None
    except sets.SetError as error:
        raise CliError(str(error)) from None
    finally:
        smesher.close()
    if args.json:
        print(json.dumps(result))
    elif operation == "marry":
        print(f"set {result['set']}: {', '.join(result['members'])} marry (signer {result['signer']}): "
              f"{result['next']}" + (" [forced]" if result["forced"] else ""))
    else:
        when = "the first epoch the marriage allows" if result["from_epoch"] is None else f"epoch {result['from_epoch']}"
        print(f"set {result['set']}: {', '.join(result['members'])} publish one merged ATX (signer "
              f"{result['signer']}) from {when}" + (" [forced]" if result["forced"] else ""))
    return 0


def marry_command(args: argparse.Namespace) -> int:
    if args.identities is None:
        raise CliError("smesher marry: --identities A,B,... is required")
    return _set_operation(args, "marry")


def merge_command(args: argparse.Namespace) -> int:
    return _set_operation(args, "merge")


def sets_command(args: argparse.Namespace) -> int:
    from smspec.tools.commands.devnet import check_url
    from smspec.tools.node import sets
    from smspec.tools.node.smesher import HttpNodeClient

    urls = [check_url(url) for url in args.node or []]
    smesher = _smesher(args, [HttpNodeClient(url, timeout=10) for url in urls])
    try:
        print(json.dumps(sets.status(smesher), indent=1))
    finally:
        smesher.close()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    smesher = subparsers.add_parser("smesher", help="run a smeshing service (keys, PoST, signing)",
                                    description=__doc__)
    sub = smesher.add_subparsers(dest="smesher_command", metavar="COMMAND")
    run = sub.add_parser("run", help="run a smeshing service for the identities of a keys directory")
    run.add_argument("--keys", required=True, metavar="DIR", help="identity keys (<name>.key, mode 0600)")
    run.add_argument("--post", required=True, metavar="DIR", help="PoST data (<name>/ per identity)")
    run.add_argument("--node", action="append", required=True, metavar="URL",
                     help="a node's API (repeat for fail-over: the first that answers is used)")
    run.add_argument("--poet", metavar="URL", help="the PoET service (smspec poet run) to register the identities' "
                                                    "challenges at")
    run.add_argument("--layers", type=integer(0, 10_000_000, "a layer count"), default=0,
                     help="stop after layer LAYERS-1 of the network (default 0: run until interrupted)")
    run.add_argument("--married", action="store_true",
                     help="the identities of the keys directory marry and then merge (as smesher marry and smesher "
                          "merge of all of them would record), unless a set is recorded already")
    run.add_argument("--byzantine", action="store_true", help=argparse.SUPPRESS)  # devnet adversary
    run.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), default="INFO")
    run.add_argument("--log-file", metavar="FILE", help="log file (default KEYS/smesher.log; - for standard error)")
    run.add_argument("--status-port", type=integer(0, 65535, "a port"), metavar="PORT",
                     help="serve the service's read-only status API and dashboard on 127.0.0.1:PORT (0: any free "
                          "port; docs/dashboard.md)")
    run.add_argument("--coordinated", action="store_true", help=argparse.SUPPRESS)
    run.set_defaults(func=run_command)
    serve = sub.add_parser("serve", help="serve a service's read-only status API and dashboard over its directories",
                           description="Serve the status API and dashboard of a smeshing service's directories on "
                                       "loopback, read-only (identity states, eligibilities, PoST data and proofs), "
                                       "whether the service runs or not: while `smspec post init` writes an "
                                       "identity's data it shows the rate and the time left. Until Ctrl-C.")
    serve.add_argument("--keys", required=True, metavar="DIR", help="the service's keys directory (its database)")
    serve.add_argument("--post", required=True, metavar="DIR", help="PoST data (<name>/ per identity)")
    serve.add_argument("--node", action="append", metavar="URL",
                       help="a node's API, for the dashboard's rewards (repeatable)")
    serve.add_argument("--port", type=integer(0, 65535, "a port"), default=DEFAULT_STATUS_PORT,
                       help=f"serve on 127.0.0.1:PORT (0: any free port; default {DEFAULT_STATUS_PORT})")
    serve.set_defaults(func=serve_command)
    for name, function, text in (("check", check_command, "verify the keys and PoST data; list the identities"),
                                 ("states", states_command, "each identity's state history (IdentityState)")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--keys", required=True, metavar="DIR")
        command.add_argument("--post", required=True, metavar="DIR")
        command.set_defaults(func=function)
    for name, function, text in (
            ("marry", marry_command, "commit identities of the service to one set: the first one's next ATX carries "
                                     "their marriage certificates (refuses a double marriage)"),
            ("merge", merge_command, "let a married set publish one merged ATX from the first epoch the protocol "
                                     "allows (refuses a double merge)")):
        command = sub.add_parser(name, help=text, description=text + ". The decision is recorded in the service's "
                                 "database (KEYS/smesher.sqlite); the service, running or not, carries it out at its "
                                 "next ATX phase.")
        command.add_argument("--keys", required=True, metavar="DIR", help="the service's identity keys")
        command.add_argument("--post", required=True, metavar="DIR", help="the service's PoST data")
        command.add_argument("--identities", metavar="A,B,...",
                             help="identity names (key file names), the first the signer" +
                                  ("" if name == "marry" else "; default: the whole set"))
        command.add_argument("--node", action="append", metavar="URL",
                             help="a node's API to check what the network knows (repeat for fail-over)")
        command.add_argument("--force", action="store_true",
                             help="record it even if the protocol punishes it (the identities will be proven "
                                  "malicious; for tests and demonstrations)")
        command.add_argument("--json", action="store_true", help="print JSON")
        command.set_defaults(func=function)
    status = sub.add_parser("sets", help="each identity set: members and their PoST, marriage, next merged ATX")
    status.add_argument("--keys", required=True, metavar="DIR")
    status.add_argument("--post", required=True, metavar="DIR")
    status.add_argument("--node", action="append", metavar="URL",
                        help="a node's API (the members' ATXs, the marriage, the current epoch)")
    status.set_defaults(func=sets_command)
    smesher.set_defaults(func=lambda args: smesher.print_help() or 2)
