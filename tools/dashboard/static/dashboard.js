// The smspec dashboard (docs/dashboard.md): polls the documented APIs of the nodes and smeshing
// services named in the page's address and draws their answers. Nothing here computes a protocol
// value: every number shown is a field of an API answer (sums and counts of them at most).
"use strict";

(() => {
  const POLL_MS = 1000;
  const HISTORY = 300; // samples kept for the layer chart
  const ROOT_ROWS = 8; // layers in the state-root table
  const HARE_ROWS = 12; // layers in the Hare table
  const HISTORY_ROWS = 12; // state-history entries shown per identity
  const EPOCH_ROWS = 12; // epochs in the ATX table, and per identity in the rewards table

  const state = {
    nodes: [], smeshers: [], view: "network", node: 0, smesher: 0, paused: false, busy: false,
    started: Date.now(), samples: new Map(), epochLength: new Map(), failures: new Map(),
  };

  // -- the APIs ------------------------------------------------------------------------------------

  async function call(base, path, body) {
    // A POST body is sent as text/plain: a "simple" cross-origin request, answered without a preflight.
    const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body) };
    const response = await fetch(base + path, init);
    if (!response.ok) {
      let message = response.statusText;
      try { message = (await response.json()).message; } catch (_) { /* not JSON */ }
      throw new Error(`${base}${path}: ${response.status} ${message}`);
    }
    return response.status === 204 ? null : response.json();
  }
  const v2 = (base, method, body) => call(base, `/spacemesh.v2alpha1.${method}`, body || {});

  function b64ToHex(text) {
    if (!text) return "";
    return Array.from(atob(text), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  }
  function hexToB64(hex) {
    return btoa(hex.match(/../g).map((pair) => String.fromCharCode(parseInt(pair, 16))).join(""));
  }
  const short = (hex) => (hex ? hex.replace(/^0x/, "").slice(0, 10) : "");

  // -- small DOM helpers ---------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function cell(tag, text, attrs) {
    const el = document.createElement(tag);
    el.textContent = text === null || text === undefined ? "—" : String(text);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) el.setAttribute(key, value);
    }
    return el;
  }

  function fill(tbody, rows) {
    // rows: arrays of [text, attrs] (or plain text); the first cell of a row is its header
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tr = document.createElement("tr");
      row.forEach((entry, i) => {
        const [text, attrs] = Array.isArray(entry) ? entry : [entry, {}];
        tr.append(cell(i === 0 ? "th" : "td", text, i === 0 ? { scope: "row", ...attrs } : attrs));
      });
      fragment.append(tr);
    }
    tbody.replaceChildren(fragment);
  }

  function colourOf(hex) {
    // the same root, the same colour (the text says it too: colour is never the only signal)
    const hue = parseInt(hex.slice(0, 6) || "0", 16) % 360;
    return `hsl(${hue} 70% 85%)`;
  }

  const hostOf = (url) => url.replace(/^https?:\/\//, "");
  const nodeLabel = (index) => `node ${index} (${hostOf(state.nodes[index])})`;

  function problem(key, error) {
    if (error) state.failures.set(key, error.message || String(error));
    else state.failures.delete(key);
  }

  // -- the network view ----------------------------------------------------------------------------

  async function nodeSnapshot(base) {
    const [status, detail] = await Promise.all([v2(base, "NodeService/Status"), call(base, "/status")]);
    return { status, detail };
  }

  async function refreshNetwork() {
    const snapshots = await Promise.all(state.nodes.map((base, i) => nodeSnapshot(base).then(
      (s) => { problem(`node${i}`); return s; }, (e) => { problem(`node${i}`, e); return null; })));
    const now = (Date.now() - state.started) / 1000;
    const rows = snapshots.map((snap, i) => {
      const field = (name, value) => [value, { "data-node": i, "data-field": name }];
      const name = [`node ${i}`, { title: state.nodes[i] }];
      if (!snap) return [name, ["unreachable", { colspan: 11 }]];
      const { status, detail } = snap;
      const samples = state.samples.get(i) || [];
      samples.push({ t: now, current: status.currentLayer, verified: status.processedLayer });
      state.samples.set(i, samples.slice(-HISTORY));
      const mempool = detail.mempool || {};
      const metrics = detail.metrics || {};
      return [
        name,
        field("currentLayer", status.currentLayer),
        field("verified", status.processedLayer),
        field("applied", status.appliedLayer),
        field("tortoise", detail.tortoise_mode),
        field("peers", status.connectedPeers),
        field("mempool", (mempool.pending || 0) + (mempool.unchecked || 0)),
        field("gossipAccepted", metrics.gossip_accepted || 0),
        field("gossipRejected", metrics.gossip_rejected || 0),
        field("malicious", (detail.malicious || []).length),
        field("atxs", detail.atxs),
        [short(detail.state_root), { "data-node": i, "data-field": "stateRoot", title: detail.state_root,
          style: detail.state_root ? `background:${colourOf(detail.state_root.slice(2))}` : null }],
      ];
    });
    fill($("nodes-table").tBodies[0], rows.length ? rows : [[["no node API given (#nodes=URL,...)", { colspan: 12 }]]]);
    const applied = snapshots.filter(Boolean).map((s) => s.status.appliedLayer);
    // one after the other: a node's API serves a few requests at a time (4 threads)
    await refreshRoots(applied.length ? Math.max(...applied) : 0);
    await refreshNodeDetail(snapshots[state.node]);
    drawChart();
  }

  async function refreshRoots(top) {
    const first = Math.max(0, top - ROOT_ROWS + 1);
    const answers = await Promise.all(state.nodes.map((base) => v2(base, "LayerService/List",
      { startLayer: first, endLayer: top, sortOrder: "DESC", limit: ROOT_ROWS }).catch(() => null)));
    const head = document.createElement("tr");
    head.append(cell("th", "layer", { scope: "col" }));
    state.nodes.forEach((_, i) => head.append(cell("th", `node ${i}`, { scope: "col" })));
    head.append(cell("th", "nodes agree?", { scope: "col" }));
    $("roots-table").tHead.replaceChildren(head);
    const rows = [];
    for (let layer = top; layer >= first; layer--) {
      const roots = answers.map((answer) => {
        const entry = answer && answer.layers.find((l) => l.number === layer);
        return entry && entry.stateHash ? b64ToHex(entry.stateHash) : null;
      });
      const distinct = new Set(roots.filter(Boolean));
      const verdict = roots.includes(null) ? (distinct.size > 1 ? "differ" : "waiting")
        : distinct.size === 1 ? "agree" : "differ";
      rows.push([String(layer), ...roots.map((root, i) => [root ? root.slice(0, 8) : null, {
        "data-node": i, "data-layer": layer, "data-field": "root", title: root,
        style: root ? `background:${colourOf(root)}` : null }]),
        [verdict === "agree" ? "✓ agree" : verdict === "differ" ? "✗ differ" : "… waiting",
          { class: `verdict ${verdict}`, "data-layer": layer, "data-field": "agreement" }]]);
    }
    fill($("roots-table").tBodies[0], rows);
  }

  async function refreshNodeDetail(snap) {
    const base = state.nodes[state.node];
    if (!base || !snap) return;
    const current = snap.status.currentLayer;
    const length = await epochLength(base);
    const firstLayer = Math.max(0, current - HARE_ROWS + 1);
    const [hare, epochs, malfeasance] = await Promise.all([
      call(base, `/smspec/v1/hare/${firstLayer}/${current}`),
      call(base, `/smspec/v1/epochs/${Math.max(0, Math.floor(current / length) - EPOCH_ROWS + 1)}/${Math.floor(current / length)}`),
      v2(base, "MalfeasanceService/List", { limit: 100 }),
    ]);
    fill($("hare-table").tBodies[0], hare.layers.slice().reverse().map((l) => {
      const at = (name, value) => [value, { "data-layer": l.layer, "data-field": name }];
      return [String(l.layer), at("proposals", l.proposals), at("outcome", l.outcome),
        [short(l.block), { title: l.block }], at("iteration", l.iteration), at("rounds", l.rounds),
        at("certificates", l.certificates)];
    }));
    const heaviest = Math.max(1, ...epochs.epochs.map((e) => Number(e.weight)));
    fill($("epochs-table").tBodies[0], epochs.epochs.map((e) => {
      const at = (name, value) => [value, { "data-epoch": e.epoch, "data-field": name }];
      return [String(e.epoch), at("atxs", e.atxs), at("initial", e.kinds.initial), at("solo", e.kinds.solo),
        at("marriage", e.kinds.marriage), at("merged", e.kinds.merged),
        [e.weight, { "data-epoch": e.epoch, "data-field": "weight", class: "bar",
          style: `--share:${(100 * Number(e.weight)) / heaviest}%` }]];
    }));
    const proofs = malfeasance.proofs;
    fill($("malicious-table").tBodies[0], proofs.length ? proofs.map((m) => [
      [short(b64ToHex(m.smesher)), { title: b64ToHex(m.smesher) }], m.properties.reason, m.properties.layer])
      : [[["none", { colspan: 3 }]]]);
    const detail = snap.detail;
    const metrics = detail.metrics || {};
    const gossip = [
      ["gossip accepted", metrics.gossip_accepted || 0], ["gossip duplicate", metrics.gossip_duplicate || 0],
      ["gossip rejected", metrics.gossip_rejected || 0],
      ...Object.entries(detail.rejections || {}).sort().map(([why, n]) => [`refused ${why}`, n]),
      ...Object.entries(detail.mempool || {}).sort().map(([status, n]) => [`transactions ${status}`, n]),
    ];
    fill($("gossip-table").tBodies[0], gossip.map(([what, n]) => [what, [n, { "data-field": what }]]));
  }

  async function epochLength(base) {
    if (!state.epochLength.has(base)) {
      const info = await v2(base, "NetworkService/Info");
      state.epochLength.set(base, info.layersPerEpoch);
    }
    return state.epochLength.get(base);
  }

  function drawChart() {
    const svg = $("layer-chart");
    const samples = state.samples.get(state.node) || [];
    const ns = "http://www.w3.org/2000/svg";
    for (const old of svg.querySelectorAll("g, polyline")) old.remove();
    const desc = $("layer-chart-desc");
    if (samples.length === 0) { desc.textContent = "No samples yet."; return; }
    const last = samples[samples.length - 1];
    desc.textContent = `${samples.length} samples over ${Math.round(last.t - samples[0].t)} s; now current layer ` +
      `${last.current}, verified layer ${last.verified}.`;
    const [width, height, left, bottom, top, right] = [640, 220, 44, 24, 10, 10];
    const t0 = samples[0].t;
    const t1 = Math.max(last.t, t0 + 1);
    const high = Math.max(1, ...samples.map((s) => s.current));
    const x = (t) => left + ((t - t0) / (t1 - t0)) * (width - left - right);
    const y = (v) => height - bottom - (v / high) * (height - bottom - top);
    const axes = document.createElementNS(ns, "g");
    axes.setAttribute("class", "axes");
    const step = Math.max(1, Math.ceil(high / 5));
    for (let v = 0; v <= high; v += step) {
      const line = document.createElementNS(ns, "line");
      Object.entries({ x1: left, x2: width - right, y1: y(v), y2: y(v) }).forEach(([k, val]) => line.setAttribute(k, val));
      const label = document.createElementNS(ns, "text");
      Object.entries({ x: left - 6, y: y(v) + 4, "text-anchor": "end" }).forEach(([k, val]) => label.setAttribute(k, val));
      label.textContent = String(v);
      axes.append(line, label);
    }
    const timeLabel = document.createElementNS(ns, "text");
    Object.entries({ x: width - right, y: height - 6, "text-anchor": "end" }).forEach(([k, val]) => timeLabel.setAttribute(k, val));
    timeLabel.textContent = `${Math.round(t1 - t0)} s`;
    const zeroLabel = document.createElementNS(ns, "text");
    Object.entries({ x: left, y: height - 6 }).forEach(([k, val]) => zeroLabel.setAttribute(k, val));
    zeroLabel.textContent = "0 s";
    axes.append(timeLabel, zeroLabel);
    svg.append(axes);
    for (const [name, cls] of [["current", "current"], ["verified", "verified"]]) {
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("class", `series ${cls}`);
      line.setAttribute("points", samples.map((s) => `${x(s.t).toFixed(1)},${y(s[name]).toFixed(1)}`).join(" "));
      svg.append(line);
    }
  }

  // -- the smeshing-service view -------------------------------------------------------------------

  async function refreshSmesher() {
    const base = state.smeshers[state.smesher];
    $("smesher-none").hidden = Boolean(base);
    if (!base) return;
    const [identities, states, post] = await Promise.all([
      call(base, "/smesher/v1/identities"), v2(base, "SmeshingIdentitiesService/States"),
      call(base, "/smesher/v1/post")]);
    const [proofs, eligibilities] = await Promise.all([
      call(base, "/smesher/v1/proofs"), v2(base, "SmeshingIdentitiesService/Eligibilities")]);
    const list = identities.identities;

    fill($("identities-table").tBodies[0], list.map((ident) => {
      const history = (states.identities[ident.nodeId] || { history: [] }).history;
      const latest = history[history.length - 1] || {};
      const at = (name, value) => [value, { "data-identity": ident.name, "data-field": name }];
      const detail = latest.error ? `error: ${latest.error.message}` : latest.smspecDetail;
      return [ident.name, [short(ident.nodeId), { title: ident.nodeId }], at("state", latest.state),
        at("publishEpoch", latest.publishEpoch), latest.time ? new Date(latest.time).toLocaleTimeString() : null,
        [detail, { class: latest.error ? "failure" : null }]];
    }));
    const histories = list.map((ident) => {
      const history = (states.identities[ident.nodeId] || { history: [] }).history.slice(-HISTORY_ROWS).reverse();
      const details = document.createElement("details");
      details.append(cell("summary", `State history of ${ident.name} (latest ${history.length})`));
      const ol = document.createElement("ol");
      for (const entry of history) {
        const extra = entry.error ? ` — error: ${entry.error.message}` : entry.smspecDetail ? ` — ${entry.smspecDetail}` : "";
        const epoch = entry.publishEpoch === undefined ? "" : ` (epoch ${entry.publishEpoch})`;
        ol.append(cell("li", `${new Date(entry.time).toLocaleTimeString()} ${entry.state}${epoch}${extra}`));
      }
      details.append(ol);
      return details;
    });
    const open = new Set([...$("histories").querySelectorAll("details[open] summary")].map((s) => s.textContent.split(" (")[0]));
    histories.forEach((d) => { if (open.has(d.querySelector("summary").textContent.split(" (")[0])) d.open = true; });
    $("histories").replaceChildren(...histories);

    fill($("post-table").tBodies[0], post.identities.map((p) => {
      const at = (name, value) => [value, { "data-identity": p.name, "data-field": name }];
      const total = Number(p.numLabels);
      const share = total ? Math.floor((100 * Number(p.numLabelsWritten)) / total) : 0;
      const eta = p.secondsLeft === null ? null : formatSeconds(p.secondsLeft);
      return [p.name, at("postState", p.error ? `error: ${p.error}` : p.state.replace("STATE_", "").toLowerCase()),
        at("numUnits", p.numUnits), at("labelsWritten", p.numLabelsWritten), at("labels", p.numLabels),
        [`${share}%`, { "data-identity": p.name, "data-field": "progress", class: "bar", style: `--share:${share}%` }], at("files", `${p.filesWritten} / ${p.files}`),
        at("size", `${p.bytesWritten} / ${p.sizeBytes} B`), at("rate", p.labelsPerSecond), at("eta", eta)];
    }));

    fill($("proofs-table").tBodies[0], proofs.proofs.length ? proofs.proofs.slice(-8).reverse().map((p) => {
      const at = (name, value) => [value, { "data-identity": p.name, "data-epoch": p.publishEpoch, "data-field": name }];
      return [p.name || short(p.nodeId), at("proofEpoch", p.publishEpoch),
        new Date(p.started).toLocaleTimeString(), at("seconds", p.seconds), [short(p.atx), { title: p.atx }]];
    }) : [[["no proof yet", { colspan: 5 }]]]);

    await refreshRewards(identities, eligibilities);

    const married = [];
    const sets = new Map();
    for (const ident of list) {
      if (!ident.marriageAtx) continue;
      if (!sets.has(ident.marriageAtx)) sets.set(ident.marriageAtx, { epoch: ident.marriageEpoch, names: [] });
      sets.get(ident.marriageAtx).names.push(ident.name);
    }
    for (const [atx, set] of sets) {
      married.push(`married: ${set.names.join(", ")} by the marriage ATX ${short(atx)} of epoch ${set.epoch}`);
    }
    const byAtx = new Map();
    for (const p of proofs.proofs) {
      if (!p.atx) continue;
      if (!byAtx.has(p.atx)) byAtx.set(p.atx, { epoch: p.publishEpoch, names: [] });
      byAtx.get(p.atx).names.push(p.name || short(p.nodeId));
    }
    for (const [atx, merged] of byAtx) {
      if (merged.names.length > 1) {
        married.push(`merged: ${merged.names.join(", ")} in ATX ${short(atx)} of epoch ${merged.epoch}`);
      }
    }
    $("married-list").replaceChildren(...(married.length ? married : ["no married set"]).map(
      (text, i) => cell("li", text, { "data-field": `married-${i}` })));
  }

  async function refreshRewards(identities, eligibilities) {
    const node = identities.nodes[0] || state.nodes[0];
    const rows = [];
    const length = node ? await epochLength(node) : 0;
    for (const ident of identities.identities) {
      if (!ident.nodeId) continue;
      const epochs = new Map();
      const entry = (epoch) => {
        if (!epochs.has(epoch)) epochs.set(epoch, { slots: 0, layers: [], rewards: 0n, rewarded: 0 });
        return epochs.get(epoch);
      };
      const mine = (eligibilities.eligibilities[ident.nodeId] || { epochs: {} }).epochs;
      const newest = Math.max(0, ...Object.keys(mine).map(Number));
      const firstEpoch = Math.max(0, newest - EPOCH_ROWS + 1);
      for (const [epoch, slots] of Object.entries(mine)) {
        if (Number(epoch) < firstEpoch) continue;
        const e = entry(Number(epoch));
        for (const s of slots.eligibilities) {
          e.slots += s.count;
          e.layers.push(s.count > 1 ? `${s.layer}×${s.count}` : String(s.layer));
        }
      }
      if (node) {
        const request = { smesher: hexToB64(ident.nodeId), startLayer: firstEpoch * length, limit: 1000, offset: 0 };
        for (;;) { // every page of the answer
          const answer = await v2(node, "RewardService/List", request);
          for (const reward of answer.rewards) {
            const e = entry(Math.floor(reward.layer / length));
            e.rewards += BigInt(reward.total);
            e.rewarded += 1;
          }
          if (answer.rewards.length < request.limit) break;
          request.offset += request.limit;
        }
      }
      for (const epoch of [...epochs.keys()].sort((a, b) => a - b)) {
        const e = epochs.get(epoch);
        const at = (name, value) => [value, { "data-identity": ident.name, "data-epoch": epoch, "data-field": name }];
        rows.push([ident.name, String(epoch), at("eligibilities", e.slots), e.layers.join(", ") || null,
          at("rewards", e.rewards.toString()), at("rewardedLayers", e.rewarded)]);
      }
    }
    fill($("rewards-table").tBodies[0], rows.length ? rows : [[["no eligibility or reward yet", { colspan: 6 }]]]);
  }

  function formatSeconds(seconds) {
    if (seconds < 90) return `${Math.round(seconds)} s`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  // -- the loop, the address, the controls ---------------------------------------------------------

  async function refresh() {
    if (state.paused || state.busy) return;
    state.busy = true;
    try {
      if (state.view === "network") await refreshNetwork();
      else await refreshSmesher();
      problem("view");
    } catch (error) {
      problem("view", error);
    } finally {
      state.busy = false;
    }
    const problems = [...state.failures.values()];
    $("problems").hidden = problems.length === 0;
    $("problems").textContent = problems.length ? `Not answering: ${problems.join("; ")}` : "";
    $("live-status").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  }

  function writeAddress() {
    const parts = [];
    if (state.nodes.length) parts.push(`nodes=${state.nodes.join(",")}`);
    if (state.smeshers.length) parts.push(`smeshers=${state.smeshers.join(",")}`);
    parts.push(`view=${state.view}`);
    history.replaceState(null, "", `#${parts.join("&")}`);
  }

  function show(view) {
    state.view = view;
    for (const button of document.querySelectorAll(".tabs button")) {
      const active = button.dataset.view === view;
      button.setAttribute("aria-pressed", String(active));
      $(button.getAttribute("aria-controls")).hidden = !active;
    }
    writeAddress();
    refresh();
  }

  function options(select, labels, chosen) {
    select.replaceChildren(...labels.map((label, i) => {
      const option = cell("option", label, { value: i });
      option.selected = i === chosen;
      return option;
    }));
  }

  async function start() {
    const params = new URLSearchParams(location.hash.slice(1));
    const list = (name) => (params.get(name) || "").split(",").map((u) => u.trim().replace(/\/+$/, "")).filter(Boolean);
    state.nodes = list("nodes");
    state.smeshers = list("smeshers");
    let view = "network";
    if (!state.nodes.length && !state.smeshers.length) {
      // no address given: the server that sent the page, a node or a smeshing service
      const doc = await call(location.origin, "/openapi.json");
      if (doc.paths["/smesher/v1/identities"]) {
        state.smeshers = [location.origin];
        view = "smesher";
      } else {
        state.nodes = [location.origin];
      }
    }
    if (!state.nodes.length && state.smeshers.length) {
      state.nodes = (await call(state.smeshers[0], "/smesher/v1/identities")).nodes;
    }
    if (["network", "smesher"].includes(params.get("view"))) view = params.get("view");
    options($("node-select"), state.nodes.map((_, i) => nodeLabel(i)), 0);
    options($("smesher-select"), state.smeshers.map(hostOf), 0);
    $("node-select").addEventListener("change", (e) => { state.node = Number(e.target.value); refresh(); });
    $("smesher-select").addEventListener("change", (e) => { state.smesher = Number(e.target.value); refresh(); });
    for (const button of document.querySelectorAll(".tabs button")) {
      button.addEventListener("click", () => show(button.dataset.view));
    }
    $("pause").addEventListener("click", () => {
      state.paused = !state.paused;
      $("pause").setAttribute("aria-pressed", String(state.paused));
      $("pause").textContent = state.paused ? "Resume updates" : "Pause updates";
      $("live-status").textContent = state.paused ? "paused" : "resuming…";
      if (!state.paused) refresh();
    });
    show(view);
    setInterval(refresh, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((error) => {
      $("problems").hidden = false;
      $("problems").textContent = `The dashboard could not start: ${error.message}`;
    });
  });
})();
