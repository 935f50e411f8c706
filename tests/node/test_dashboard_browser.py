"""The dashboard in a browser (docs/dashboard.md): Debian's chromium, driven by playwright, opens
the page `smspec devnet up --dashboard` prints for a running 4-node devnet (one byzantine node),
watches the layers advance, and checks that every number on both views equals the answer of the
API it comes from; no console error, and the page fits a 400-pixel window. Screenshots of both
views (wide and narrow) are written to the test's directory, or to $SMSPEC_SCREENSHOTS when set
(``make dashboard-test`` keeps them in build/dashboard/).

Chromium is a system package: scripts/setup-system.sh installs it (``make setup``); without it
this test fails and says so, it is never skipped.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAYERS = 17  # epoch 4's first layer (16) publishes the merged ATX of n0 and n0b
V2 = "/spacemesh.v2alpha1."
NONE = "—"  # what the page shows for an empty field


def api(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as response:
        return json.loads(response.read())


def shown(value: object) -> str:
    return NONE if value is None else str(value)


class Devnet:
    """`smspec devnet up --dashboard` in a process; its output lines in a queue."""

    def __init__(self, directory: str) -> None:
        command = [sys.executable, "-m", "smspec.tools.cli", "devnet", "up", "--dashboard", "--layers", str(LAYERS),
                   "--pace", "0.2", "--key-seed", "smspec-devnet", "--byzantine", "3", "--quiet",
                   "--datadir", directory]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line.startswith(prefix):
                return line
        raise AssertionError(f"the devnet printed no {prefix!r} line:\n{''.join(self.output)}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C: the devnet stops serving and exits
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def cells(page) -> dict[tuple, str]:
    """Every value the page shows, by what it is: (field, node, layer, epoch, identity) -> text."""
    found = page.evaluate("""() => Array.from(document.querySelectorAll("main [data-field]"), el => [
        el.dataset.field, el.dataset.node ?? null, el.dataset.layer ?? null, el.dataset.epoch ?? null,
        el.dataset.identity ?? null, el.textContent])""")
    return {tuple(entry[:5]): entry[5] for entry in found}


def key(field: str, node: int | None = None, layer: int | None = None, epoch: int | None = None,
        identity: str | None = None) -> tuple:
    return (field, *(None if v is None else str(v) for v in (node, layer, epoch, identity)))


def wait_until(page, predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the page never showed {what}")


def wait_updates(page, count: int = 2) -> None:
    """Let the page fetch everything afresh `count` times."""
    start = int(page.evaluate("() => Number(document.body.dataset.updates || 0)"))
    page.wait_for_function(f"() => Number(document.body.dataset.updates || 0) >= {start + count}", timeout=20000)


def check_network_view(page, nodes: list[str]) -> None:
    shown_now = cells(page)
    for index, url in enumerate(nodes):
        status = api(url + V2 + "NodeService/Status", {})
        detail = api(url + "/status")
        expected = {
            "currentLayer": status["currentLayer"], "verified": status["processedLayer"],
            "applied": status["appliedLayer"], "tortoise": detail["tortoise_mode"], "peers": status["connectedPeers"],
            "mempool": detail["mempool"].get("pending", 0) + detail["mempool"].get("unchecked", 0),
            "gossipAccepted": detail["metrics"]["gossip_accepted"],
            "gossipRejected": detail["metrics"].get("gossip_rejected", 0), "malicious": len(detail["malicious"]),
            "atxs": detail["atxs"], "stateRoot": detail["state_root"][2:12],
        }
        assert {field: shown_now[key(field, index)] for field in expected} == \
            {field: str(value) for field, value in expected.items()}, f"node {index}"
        top = status["appliedLayer"]
        layers = api(url + V2 + "LayerService/List", {"startLayer": top - 7, "endLayer": top})["layers"]
        for layer in layers:
            root = base64.b64decode(layer["stateHash"]).hex()[:8]
            assert shown_now[key("root", index, layer["number"])] == root
    honest_roots = {shown_now[key("root", i, top)] for i in range(len(nodes))}
    assert len(honest_roots) == 1 and shown_now[key("agreement", layer=top)] == "✓ agree"

    base = nodes[0]
    current = api(base + V2 + "NodeService/Status", {})["currentLayer"]
    for row in api(f"{base}/smspec/v1/hare/{current - 11}/{current}")["layers"]:
        for field in ("proposals", "outcome", "iteration", "rounds", "certificates"):
            assert shown_now[key(field, layer=row["layer"])] == shown(row[field]), (row, field)
    epochs = api(f"{base}/smspec/v1/epochs/0/{current // 4}")["epochs"]
    for row in epochs:
        for field in ("atxs", "weight"):
            assert shown_now[key(field, epoch=row["epoch"])] == shown(row[field])
        for kind, count in row["kinds"].items():
            assert shown_now[key(kind, epoch=row["epoch"])] == str(count)
    assert epochs[1]["kinds"]["initial"] == 5 and epochs[4]["kinds"]["merged"] == 1
    malicious = api(base + V2 + "MalfeasanceService/List", {"limit": 100})["proofs"]
    rows = page.locator("#malicious-table tbody tr").all_inner_texts()
    assert len(rows) == len(malicious) >= 1  # node 3's identity equivocated
    assert [row.split("\t")[1:] for row in rows] == [[m["properties"]["reason"], m["properties"]["layer"]]
                                                     for m in malicious]
    detail = api(base + "/status")
    assert shown_now[key("gossip rejected")] == str(detail["metrics"]["gossip_rejected"]) != "0"
    for why, count in detail["rejections"].items():
        assert shown_now[key(f"refused {why}")] == str(count)


def check_smesher_view(page, service: str, node: str) -> None:
    shown_now = cells(page)
    identities = api(service + "/smesher/v1/identities")["identities"]
    assert [i["name"] for i in identities] == ["n0", "n0b"]
    states = api(service + V2 + "SmeshingIdentitiesService/States", {})["identities"]
    post = {p["name"]: p for p in api(service + "/smesher/v1/post")["identities"]}
    for ident in identities:
        name = ident["name"]
        latest = states[ident["nodeId"]]["history"][-1]
        assert shown_now[key("state", identity=name)] == latest["state"]
        assert shown_now[key("publishEpoch", identity=name)] == shown(latest.get("publishEpoch"))
        assert shown_now[key("labelsWritten", identity=name)] == post[name]["numLabelsWritten"]
        assert shown_now[key("labels", identity=name)] == post[name]["numLabels"]
        assert shown_now[key("postState", identity=name)] == "complete"
    for proof in api(service + "/smesher/v1/proofs")["proofs"][-8:]:
        assert shown_now[key("seconds", epoch=proof["publishEpoch"], identity=proof["name"])] == str(proof["seconds"])
    eligibilities = api(service + V2 + "SmeshingIdentitiesService/Eligibilities", {})["eligibilities"]
    for ident in identities:
        smesher = base64.b64encode(bytes.fromhex(ident["nodeId"])).decode()
        rewards = api(node + V2 + "RewardService/List", {"smesher": smesher, "limit": 1000})["rewards"]
        for epoch, slots in eligibilities[ident["nodeId"]]["epochs"].items():
            assert shown_now[key("eligibilities", epoch=epoch, identity=ident["name"])] == \
                str(sum(s["count"] for s in slots["eligibilities"]))
            paid = [int(r["total"]) for r in rewards if r["layer"] // 4 == int(epoch)]
            assert shown_now[key("rewards", epoch=epoch, identity=ident["name"])] == str(sum(paid))
            assert shown_now[key("rewardedLayers", epoch=epoch, identity=ident["name"])] == str(len(paid))
    married = page.locator("#married-list li").all_inner_texts()
    wedding = identities[0]["marriageAtx"][:10]
    merged = next(p["atx"] for p in api(service + "/smesher/v1/proofs")["proofs"] if p["publishEpoch"] == 4)
    assert married == [f"married: n0, n0b by the marriage ATX {wedding} of epoch 2",
                       f"merged: n0, n0b in ATX {merged[:10]} of epoch 4"]


def test_dashboard_of_a_running_devnet(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"the dashboard test needs Debian's chromium at {CHROMIUM}: run `bash scripts/setup-system.sh` "
                    "(or `sudo apt-get install chromium`)")
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    devnet = Devnet(str(tmp_path / "devnet"))
    try:
        url = devnet.wait_for("dashboard: ", 120).split(" ", 1)[1].strip()
        fragment = dict(part.split("=", 1) for part in url.split("#", 1)[1].split("&"))
        nodes, services = fragment["nodes"].split(","), fragment["smeshers"].split(",")
        assert url.startswith(nodes[0] + "/dashboard#") and len(nodes) == 4 and len(services) == 4
        errors: list[str] = []
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)

            def layer_shown() -> int:
                text = cells(page).get(key("currentLayer", 0), "")
                return int(text) if text.isdigit() else -1

            wait_until(page, lambda: layer_shown() >= 2, 60, "node 0 in layer 2")
            seen = layer_shown()
            wait_until(page, lambda: layer_shown() >= seen + 3, 60, f"the layers advance past {seen + 2}")
            devnet.wait_for("serving the API until interrupted", 120)  # the last layer is done: nothing changes now
            wait_updates(page)
            check_network_view(page, nodes)
            page.screenshot(path=str(shots / "network.png"), full_page=True)

            page.click("#pause")
            assert page.inner_text("#live-status") == "paused"
            before = page.evaluate("() => document.body.dataset.updates")
            page.wait_for_timeout(2500)
            assert page.evaluate("() => document.body.dataset.updates") == before  # paused: no request
            page.click("#pause")

            page.click("#tab-smesher")
            assert page.get_attribute("#tab-smesher", "aria-pressed") == "true" and page.is_hidden("#view-network")
            wait_updates(page)
            check_smesher_view(page, services[0], nodes[0])
            page.screenshot(path=str(shots / "smesher.png"), full_page=True)

            page.set_viewport_size({"width": 400, "height": 800})
            for view in ("smesher", "network"):
                page.click(f"#tab-{view}")
                wait_updates(page)
                width = page.evaluate("() => document.documentElement.scrollWidth")
                assert width <= 400, f"the {view} view is {width} px wide in a 400 px window"
                page.screenshot(path=str(shots / f"{view}-narrow.png"), full_page=True)
            browser.close()
        assert errors == []
    finally:
        code = devnet.stop()
        target = os.environ.get("SMSPEC_SCREENSHOTS")
        if target:
            shutil.copytree(shots, target, dirs_exist_ok=True)
    assert code == 0, "".join(devnet.output)
    assert "Task queue depth" not in "".join(devnet.output)  # the page never queues requests at an API
