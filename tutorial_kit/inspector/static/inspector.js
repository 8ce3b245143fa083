/* The task inspector: task, task group and index pages over the public Queue API.
 *
 * Everything shown comes from the Queue API of the deployment that serves this page (the same
 * calls any client makes), so the page works on the mock and on a real deployment alike. Live
 * updates follow the mock's event stream (/mock/v1/events) when it answers, and poll otherwise.
 *
 * Safety: no text from the API ever becomes markup. Every node is built with createElement and
 * text nodes; links get an href only when it is http(s) or mailto (see safeHref), and the
 * Content-Security-Policy of the page forbids inline scripts besides.
 */
"use strict";
(function () {
  const BASE = document.documentElement.dataset.base || "";
  const ROOT = location.origin + BASE;
  const API = ROOT + "/api/queue/v1";
  const RESOLVED = ["completed", "failed", "exception"];
  const STATES = ["unscheduled", "pending", "running", "completed", "failed", "exception"];
  const POLL_MS = 2000; // how often to poll without an event stream (the tutorial's interval)
  const SAFETY_POLL_MS = 10000; // with events: a reclaim publishes nothing, so look anyway
  const LOG_KEEP = 256 * 1024; // characters of a live log kept on the page (the tail)
  const RECENT_KEY = "tutorial-kit.inspector.recent";
  const CREDS_KEY = "tutorial-kit.inspector.credentials";
  const SLUGID = /^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/;

  // -- DOM helpers: text only --------------------------------------------------------------
  function safeHref(value) {
    try {
      const url = new URL(String(value), location.href);
      return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "href") {
        const safe = safeHref(value);
        if (safe) el.setAttribute("href", safe);
      } else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child)); // strings become text nodes
    }
    return el;
  }

  function replace(el, ...children) {
    el.replaceChildren();
    return append(el, children);
  }

  /* Label every cell with its column, so that on a phone (CSS: .cards) each row reads as a
   * card of "column: value" lines instead of a table wider than the screen. */
  function cards(table) {
    const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, i) => cell.setAttribute("data-label", names[i] || ""));
    }
    table.classList.add("cards");
    return table;
  }

  function badge(state, label) {
    const text = label || state || "unknown";
    return h("span", { class: "badge", "data-state": state || "unknown", role: "img",
                       "aria-label": `state: ${text}` }, text);
  }

  function taskLink(taskId, text) {
    return h("a", { href: `${ROOT}/tasks/${encodeURIComponent(taskId)}` }, text || taskId);
  }

  function groupLink(groupId, text) {
    return h("a", { href: `${ROOT}/tasks/groups/${encodeURIComponent(groupId)}` },
             text || groupId);
  }

  function when(value) {
    if (!value) return h("span", { class: "muted" }, "—");
    const date = new Date(value);
    if (isNaN(date)) return String(value);
    const text = date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
    return h("time", { datetime: value, title: `${value} (${ago(date)})` }, text);
  }

  function ago(date) {
    const seconds = Math.round((Date.now() - date.getTime()) / 1000);
    const abs = Math.abs(seconds);
    const text = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min`
      : abs < 172800 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86400)} days`;
    return seconds >= 0 ? `${text} ago` : `in ${text}`;
  }

  // -- a small, safe markdown ----------------------------------------------------------------
  // Paragraphs, headings, lists, fenced code, `code`, **strong**, *em*, [links](http...) and
  // bare http(s) URLs: enough for task descriptions. Anything else stays literal text.
  const BLOCK = /^(```|#{1,6}\s|\s*[-*+]\s+|\s*\d+[.)]\s+)/;

  function markdown(source) {
    const frag = document.createDocumentFragment();
    const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (/^```/.test(line)) {
        const code = [];
        for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
        i++;
        frag.append(h("pre", {}, h("code", {}, code.join("\n"))));
        continue;
      }
      const heading = /^(#{1,6})\s+(.*)$/.exec(line);
      if (heading) {
        frag.append(h(`h${Math.min(6, heading[1].length + 2)}`, {}, inline(heading[2])));
        i++;
        continue;
      }
      const listKind = /^\s*[-*+]\s+/.test(line) ? "ul" : /^\s*\d+[.)]\s+/.test(line) ? "ol" : null;
      if (listKind) {
        const marker = listKind === "ul" ? /^\s*[-*+]\s+/ : /^\s*\d+[.)]\s+/;
        const list = h(listKind);
        for (; i < lines.length && marker.test(lines[i]); i++) {
          list.append(h("li", {}, inline(lines[i].replace(marker, ""))));
        }
        frag.append(list);
        continue;
      }
      if (!line.trim()) {
        i++;
        continue;
      }
      const para = [];
      for (; i < lines.length && lines[i].trim() && !BLOCK.test(lines[i]); i++) para.push(lines[i]);
      frag.append(h("p", {}, inline(para.join("\n"))));
    }
    return frag;
  }

  function inline(text) {
    const out = [];
    const re = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+)/g;
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(text.slice(last, m.index));
      if (m[1] !== undefined) out.push(h("code", {}, m[1]));
      else if (m[2] !== undefined) out.push(h("strong", {}, m[2]));
      else if (m[3] !== undefined) out.push(h("em", {}, m[3]));
      else if (m[4] !== undefined) {
        const href = /^(https?:|mailto:)/i.test(m[5]) ? safeHref(m[5]) : null;
        out.push(href ? h("a", { href, rel: "noopener noreferrer nofollow" }, m[4]) : m[0]);
      } else out.push(h("a", { href: m[6], rel: "noopener noreferrer nofollow" }, m[6]));
      last = re.lastIndex;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  // -- the Queue API -------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path) {
    let response;
    try {
      response = await fetch(API + path, { headers: { accept: "application/json" },
                                           cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, "NetworkError", `cannot reach ${ROOT} (${e.message})`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) { /* not JSON: reported by status below */ }
    if (!response.ok) {
      const message = body && (body.message || body.error);
      throw new ApiError(response.status, body && body.code,
                         message ? String(message).split("\n")[0] : `HTTP ${response.status}`);
    }
    return body;
  }

  async function listAll(path, key) {
    const items = [];
    let token = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const page = await api(path + (token ? `${sep}continuationToken=${encodeURIComponent(token)}` : ""));
      items.push(...(page[key] || []));
      token = page.continuationToken;
    } while (token);
    return items;
  }

  function artifactUrl(taskId, runId, name) {
    return `${API}/task/${encodeURIComponent(taskId)}/runs/${runId}/artifacts/${encodeURIComponent(name)}`;
  }

  /* Replace a live region's content only when its text changes, so a screen reader does not
   * announce the same words again on every refresh. */
  function announce(el, ...children) {
    const probe = append(document.createElement("div"), children);
    if (probe.textContent === el.textContent && el.childNodes.length) return el;
    return replace(el, ...probe.childNodes);
  }

  function errorBox(error) {
    const status = error.status ? `${error.status} ${error.code || ""} — ` : "";
    return h("p", { class: "error", role: "alert" }, status + (error.message || String(error)));
  }

  // -- live updates ----------------------------------------------------------------------------
  /* Call refresh() now, then whenever an event matches (or on a timer without events).
   * Returns a function that sets the status line's element. */
  function follow(matches, refresh, line) {
    let timer = null;
    let running = false;
    let again = false;
    let interval = POLL_MS;
    let events = null;
    let streamMissing = !window.EventSource; // no stream here (or not for us): poll
    let lastSeq = 0;
    const say = (text) => { if (line) line.textContent = text; };

    async function run() {
      if (running) { again = true; return; }
      running = true;
      clearTimeout(timer);
      try {
        await refresh();
      } catch (e) { /* refresh shows its own errors */ }
      running = false;
      if (again) { again = false; return run(); }
      if (!document.hidden) timer = setTimeout(run, interval);
    }

    function connect() {
      if (streamMissing || events) return;
      let opened = false;
      const stream = new EventSource(`${ROOT}/mock/v1/events?since=${lastSeq}`);
      events = stream;
      stream.addEventListener("open", () => {
        opened = true;
        interval = SAFETY_POLL_MS;
        say("Live: following the queue's events");
      });
      stream.addEventListener("message", (event) => {
        lastSeq = Math.max(lastSeq, Number(event.lastEventId) || 0);
        let data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        if (matches(data)) run();
      });
      stream.addEventListener("error", () => {
        // Not there (a real deployment), closed to us (a classroom), or the server went away:
        // poll. The browser retries a stream that was open; one that never opened is given up.
        if (!opened || stream.readyState === EventSource.CLOSED) {
          stream.close();
          if (events === stream) events = null;
          if (!opened) streamMissing = true;
          interval = POLL_MS;
          say(`Live: polling every ${POLL_MS / 1000} s`);
        }
      });
    }

    // A hidden tab lets its connections go: a browser allows six per server, and a learner may
    // open many task pages. It catches up when shown again.
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) {
        clearTimeout(timer);
        if (events) { events.close(); events = null; }
      } else {
        connect();
        run();
      }
    });
    say(`Live: polling every ${POLL_MS / 1000} s`);
    connect();
    run();
  }

  function routingWords(message) {
    return String((message && message.routingKey) || "").split(".");
  }

  // -- remembered tasks (this browser only) ----------------------------------------------------
  function remember(taskId, name, state) {
    try {
      const seen = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]").filter((t) => t.taskId !== taskId);
      seen.unshift({ taskId, name: String(name || ""), state: String(state || ""), at: new Date().toISOString() });
      localStorage.setItem(RECENT_KEY, JSON.stringify(seen.slice(0, 25)));
    } catch (e) { /* storage disabled: nothing to remember */ }
  }

  function remembered() {
    try {
      const seen = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
      return Array.isArray(seen) ? seen.filter((t) => t && typeof t.taskId === "string") : [];
    } catch (e) {
      return [];
    }
  }

  function credentials() {
    try {
      const value = JSON.parse(sessionStorage.getItem(CREDS_KEY) || "null");
      return value && value.clientId && value.accessToken ? value : null;
    } catch (e) {
      return null;
    }
  }

  // -- the task page ---------------------------------------------------------------------------
  function taskPage(main, taskId) {
    document.title = `Task ${taskId} · inspector`;
    const head = h("div");
    const live = h("p", { class: "live", role: "status" });
    const problem = h("div");
    const desc = h("div", { class: "desc" });
    const facts = h("dl", { class: "facts" });
    const runs = h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Runs" });
    const timeline = h("div", { class: "timeline" });
    const artifacts = h("div");
    const logTitle = h("h2", { id: "log-title" }, "Log");
    const logNote = h("p", { class: "muted", role: "status" });
    const logPre = h("pre", { class: "log", tabindex: "0", "aria-labelledby": "log-title" });
    const definition = h("pre", { class: "json", tabindex: "0" });
    const creds = credentialsPanel(() => {
      delete artifacts.dataset.key; // new credentials: sign the links again
      refresh();
    });
    replace(main, head, live, problem, desc,
            h("h2", {}, "Task"), facts,
            h("h2", {}, "Runs"), runs, timeline,
            h("h2", {}, "Artifacts"), creds, artifacts,
            logTitle, logNote, logPre,
            h("details", {}, h("summary", {}, "Task definition (JSON)"), definition));
    head.append(h("h1", {}, "Task ", h("code", {}, taskId)));

    let task = null;
    let lastRuns = [];
    let lastStatusKey = null;
    let resizing = null;
    window.addEventListener("resize", () => {  // the timeline is drawn at the box's width
      clearTimeout(resizing);
      resizing = setTimeout(() => renderTimeline(timeline, lastRuns), 150);
    });
    // An open run's bars grow with time, between the API's answers too.
    setInterval(() => {
      if (lastRuns.some((r) => !r.resolved)) renderTimeline(timeline, lastRuns);
    }, 1000);
    const artifactCache = new Map(); // runId -> {state, list}
    const log = new LogView(taskId, logTitle, logNote, logPre);

    async function refresh() {
      let status;
      try {
        if (!task) {
          task = await api(`/task/${encodeURIComponent(taskId)}`);
          replace(definition, JSON.stringify(task, null, 2));
        }
        status = (await api(`/task/${encodeURIComponent(taskId)}/status`)).status;
        replace(problem);
      } catch (error) {
        announce(problem, errorBox(error));
        if (error.status === 404 && !task) {
          replace(head, h("h1", {}, "No such task"), h("p", {}, h("code", {}, taskId),
                  " is not a task on this deployment (yet)."));
        }
        return;
      }
      const meta = task.metadata || {};
      // Redraw only what changed: a keyboard user's focus stays on the link they are on.
      const statusKey = JSON.stringify(status);
      if (statusKey !== lastStatusKey) {
        lastStatusKey = statusKey;
        remember(taskId, meta.name, status.state);
        document.title = `${meta.name || taskId} · ${status.state} · inspector`;
        replace(head, h("div", { class: "title-row" }, badge(status.state),
                        h("h1", {}, meta.name || "(unnamed task)")),
                h("div", { class: "id" }, "taskId ", h("code", {}, taskId)));
        head.querySelector(".badge").id = "task-state";
        if (!desc.childNodes.length) replace(desc, markdown(meta.description || ""));
        renderFacts(facts, task, status);
        renderRuns(runs, status.runs || []);
        renderTimeline(timeline, status.runs || []);
        lastRuns = status.runs || [];
      }
      await renderArtifacts(artifacts, taskId, status.runs || [], artifactCache);
      log.update(status.runs || []);
    }

    follow((m) => routingWords(m)[1] === taskId, refresh, live);
  }

  function fact(dl, name, ...value) {
    dl.append(h("dt", {}, name), h("dd", {}, ...value));
  }

  function renderFacts(dl, task, status) {
    replace(dl);
    const meta = task.metadata || {};
    fact(dl, "state", badge(status.state));
    fact(dl, "taskQueueId", h("code", {}, status.taskQueueId || task.taskQueueId || ""));
    fact(dl, "schedulerId", h("code", {}, status.schedulerId || task.schedulerId || ""));
    fact(dl, "taskGroupId", groupLink(status.taskGroupId || task.taskGroupId));
    const deps = task.dependencies || [];
    fact(dl, "dependencies", deps.length
      ? [deps.map((d, i) => [i ? ", " : "", taskLink(d)]), ` (requires ${task.requires || "all-completed"})`]
      : h("span", { class: "muted" }, "none"));
    fact(dl, "priority", task.priority || "");
    fact(dl, "retries left", `${status.retriesLeft} of ${task.retries}`);
    fact(dl, "created", when(task.created));
    fact(dl, "deadline", when(status.deadline || task.deadline));
    fact(dl, "expires", when(status.expires || task.expires));
    fact(dl, "owner", meta.owner || "");
    const source = safeHref(meta.source);
    fact(dl, "source", source && /^https?:/.test(source)
      ? h("a", { href: source, rel: "noopener noreferrer nofollow" }, meta.source)
      : String(meta.source || ""));
  }

  function renderRuns(box, runs) {
    if (!runs.length) {
      replace(box, h("p", { class: "muted" }, "No runs yet: the task waits for its dependencies or to be scheduled."));
      return;
    }
    const head = ["runId", "state", "reasonCreated", "reasonResolved", "worker", "scheduled",
                  "started", "resolved", "takenUntil"];
    const table = h("table", {},
      h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, runs.map((run) => h("tr", { "data-run": run.runId },
        h("td", {}, String(run.runId)),
        h("td", {}, badge(run.state)),
        h("td", {}, run.reasonCreated || ""),
        h("td", {}, run.reasonResolved || ""),
        h("td", { class: "wrap" }, run.workerGroup ? `${run.workerGroup}/${run.workerId}` : ""),
        h("td", {}, when(run.scheduled)),
        h("td", {}, when(run.started)),
        h("td", {}, when(run.resolved)),
        h("td", {}, when(run.takenUntil))))));
    replace(box, cards(table));
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  /* Each run as a bar: waiting (scheduled → started) then working (started → resolved). */
  function renderTimeline(box, runs) {
    const times = [];
    for (const r of runs) for (const k of ["scheduled", "started", "resolved"]) if (r[k]) times.push(Date.parse(r[k]));
    if (!runs.length || !times.length) { replace(box); return; }
    const now = Date.now();
    const start = Math.min(...times);
    const open = runs.some((r) => !r.resolved);
    const end = Math.max(open ? now : 0, ...times, start + 1000);
    // Drawn at the box's own width, so its text keeps its size on a phone.
    const width = Math.max(280, Math.round(box.clientWidth || 1000)), rowH = 26, left = 52;
    const x = (t) => left + ((t - start) / (end - start)) * (width - left - 10);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${runs.length * rowH + 24}`, role: "img",
                               width, height: runs.length * rowH + 24,
                               "aria-label": `Timeline of ${runs.length} run(s) over ${Math.round((end - start) / 1000)} s` });
    runs.forEach((r, i) => {
      const y = i * rowH + 4;
      chart.append(svg("text", { x: 0, y: y + 15, "font-size": 13, fill: "#4d5761" }, `run ${r.runId}`));
      const scheduled = r.scheduled ? Date.parse(r.scheduled) : null;
      const started = r.started ? Date.parse(r.started) : null;
      const resolved = r.resolved ? Date.parse(r.resolved) : null;
      if (scheduled !== null) {
        chart.append(svg("rect", { x: x(scheduled), y, height: 18, rx: 3, fill: "#d4a72c",
                                    width: Math.max(2, x(started ?? resolved ?? now) - x(scheduled)) }));
      }
      if (started !== null) {
        const color = { completed: "#1a7f37", failed: "#cf222e", exception: "#8250df" }[r.state] || "#0b57d0";
        chart.append(svg("rect", { x: x(started), y, height: 18, rx: 3, fill: color,
                                    width: Math.max(2, x(resolved ?? now) - x(started)) }));
      }
    });
    chart.append(svg("text", { x: left, y: runs.length * rowH + 20, "font-size": 12, fill: "#4d5761" },
                     `${Math.round((end - start) / 1000)} s from first scheduled to ${open ? "now" : "last resolved"}`));
    replace(box, chart, h("div", { class: "legend" },
      h("span", {}, h("span", { class: "swatch", "data-c": "wait" }), "waiting for a worker"),
      h("span", {}, h("span", { class: "swatch", "data-c": "work" }), "running (colour: outcome)")));
    // Inline styles are blocked by the CSP, so the swatches' colours are set as properties.
    box.querySelector('[data-c="wait"]').style.background = "#d4a72c";
    box.querySelector('[data-c="work"]').style.background = "#0b57d0";
  }

  async function renderArtifacts(box, taskId, runs, cache) {
    if (!runs.length) { replace(box, h("p", { class: "muted" }, "No runs, so no artifacts.")); return; }
    const creds = credentials();
    const sections = [];
    const seen = [];
    for (const run of runs) {
      const cached = cache.get(run.runId);
      let list;
      if (cached && RESOLVED.includes(cached.state)) list = cached.list; // final once resolved
      else {
        try {
          list = await listAll(`/task/${encodeURIComponent(taskId)}/runs/${run.runId}/artifacts`, "artifacts");
        } catch (e) {
          sections.push(h("h3", {}, `Run ${run.runId}`), errorBox(e));
          seen.push([run.runId, e.message]);
          continue;
        }
        cache.set(run.runId, { state: run.state, list });
      }
      seen.push([run.runId, run.state, list]);
      sections.push(h("h3", {}, `Run ${run.runId} `, badge(run.state)));
      if (!list.length) { sections.push(h("p", { class: "muted" }, "No artifacts.")); continue; }
      sections.push(h("div", { class: "scroll", tabindex: "0", role: "region",
                               "aria-label": `Artifacts of run ${run.runId}` }, cards(h("table", { "data-run": run.runId },
        h("thead", {}, h("tr", {}, ["name", "storageType", "contentType", "expires"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, list.map((a) => h("tr", { "data-artifact": a.name },
          h("td", { class: "wrap" }, artifactCell(taskId, run.runId, a, creds)),
          h("td", {}, a.storageType || ""),
          h("td", { class: "wrap" }, a.contentType || ""),
          h("td", {}, when(a.expires)))))))));
    }
    // Unchanged lists stay in place; signed links are made afresh every 10 minutes (they last 15).
    const key = JSON.stringify([seen, creds && creds.clientId, Math.floor(Date.now() / 600000)]);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    replace(box, sections);
  }

  function artifactCell(taskId, runId, artifact, creds) {
    const name = artifact.name;
    const url = artifactUrl(taskId, runId, name);
    if (artifact.storageType === "error") return [h("code", {}, name), " ", badge("failed", "error")];
    if (name.startsWith("public/")) return h("a", { href: url, download: name.split("/").pop() }, name);
    if (creds) {
      return [h("a", { href: TKHawk.signUrl(creds, url), download: name.split("/").pop(),
                       title: `signed for 15 minutes as ${creds.clientId}` }, name), " ",
              h("span", { class: "muted" }, "(signed)")];
    }
    return [h("code", {}, name), " ", badge("private", "private")];
  }

  function credentialsPanel(onChange) {
    const current = credentials();
    const clientId = h("input", { type: "text", id: "creds-client", autocomplete: "username",
                                  value: current ? current.clientId : "" });
    const token = h("input", { type: "password", id: "creds-token", autocomplete: "current-password" });
    const note = h("p", { class: "muted", role: "status" },
                   current ? `Signing private artifact links as ${current.clientId}.` : "");
    const form = h("form", { onsubmit: (event) => {
      event.preventDefault();
      if (!clientId.value.trim() || !token.value.trim()) { note.textContent = "Both fields are needed."; return; }
      sessionStorage.setItem(CREDS_KEY, JSON.stringify({ clientId: clientId.value.trim(), accessToken: token.value.trim() }));
      token.value = "";
      note.textContent = `Signing private artifact links as ${clientId.value.trim()}.`;
      onChange();
    } },
      h("label", { for: "creds-client" }, "clientId"), clientId,
      h("label", { for: "creds-token" }, "accessToken"), token,
      h("p", {}, h("button", { type: "submit" }, "Use for links"), " ",
        h("button", { type: "button", onclick: () => {
          sessionStorage.removeItem(CREDS_KEY);
          note.textContent = "Forgotten.";
          onChange();
        } }, "Forget")));
    return h("details", { class: "creds" },
      h("summary", {}, "Credentials for private artifacts"),
      h("p", { class: "muted" }, "Private artifacts need a signed URL. Paste your clientId and ",
        "accessToken to sign links here, in this page, for 15 minutes. They stay in this tab ",
        "(sessionStorage) and are never sent: only the signature is, in the link."),
      form, note);
  }

  /* The log of the newest run: followed while it runs, the whole file once it is resolved. */
  class LogView {
    constructor(taskId, title, note, pre) {
      Object.assign(this, { taskId, title, note, pre, key: null, abort: null });
      // A hidden tab stops following (the connection is freed); the next update starts over.
      document.addEventListener("visibilitychange", () => {
        if (document.hidden && this.abort) {
          this.abort.abort();
          this.abort = null;
          this.key = null;
        }
      });
    }

    update(runs) {
      const run = runs[runs.length - 1];
      if (!run) { this.show("no-run", "Log", "The log appears once a worker runs the task."); return; }
      const phase = run.state === "running" ? "live" : RESOLVED.includes(run.state) ? "final" : "wait";
      const key = `${run.runId}:${phase}`;
      if (key === this.key) return;
      this.key = key;
      if (this.abort) this.abort.abort();
      this.abort = null;
      if (phase === "wait") {
        this.show(key, `Log of run ${run.runId}`, "The run is pending: its log starts when a worker claims it.");
        return;
      }
      const controller = new AbortController();
      this.abort = controller;
      const live = phase === "live";
      this.show(key, `Log of run ${run.runId}${live ? " (live, following)" : ""}`,
                live ? "Following the live log as it grows…" : "Loading the whole log…");
      this.fetch(run, live, controller.signal).catch((error) => {
        if (controller.signal.aborted) return;
        this.note.textContent = error.message;
      });
    }

    show(key, title, note) {
      this.title.textContent = title;
      this.note.textContent = note;
      this.pre.replaceChildren();
      this.pre.hidden = true;
    }

    async fetch(run, live, signal) {
      const url = artifactUrl(this.taskId, run.runId, "public/logs/live.log");
      const response = await fetch(url, { signal, cache: "no-store" });
      if (!response.ok) {
        this.note.textContent = response.status !== 404 ? `The log could not be read (HTTP ${response.status}).`
          : response.redirected ? "The log public/logs/live.log points to is no longer there."
          : "This run has no public/logs/live.log (its worker keeps no log).";
        return;
      }
      this.pre.hidden = false;
      this.pre.setAttribute("aria-busy", live ? "true" : "false");
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const atBottom = this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 20;
        text += decoder.decode(value, { stream: true });
        if (text.length > LOG_KEEP) text = text.slice(text.length - LOG_KEEP); // keep the tail
        this.pre.textContent = text;
        if (live && atBottom) this.pre.scrollTop = this.pre.scrollHeight;
      }
      text += decoder.decode();
      this.pre.textContent = text;
      this.pre.setAttribute("aria-busy", "false");
      this.note.textContent = live ? "The run's log ended." : `${text.length} characters.`;
    }
  }

  // -- the task group page --------------------------------------------------------------------
  function groupPage(main, groupId) {
    document.title = `Task group ${groupId} · inspector`;
    const live = h("p", { class: "live", role: "status" });
    const problem = h("div");
    const summary = h("p", { role: "status", "aria-live": "polite" });
    const filters = h("div", { class: "filters", role: "group", "aria-label": "Show tasks in state" });
    const list = h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Tasks of the group" });
    const about = h("dl", { class: "facts" });
    replace(main, h("h1", {}, "Task group ", h("code", {}, groupId)), about, live, problem,
            summary, filters, list);
    // The group's own record (schedulerId, expiry, sealed): once, and only decoration.
    api(`/task-group/${encodeURIComponent(groupId)}`).then((group) => {
      fact(about, "schedulerId", h("code", {}, group.schedulerId || ""));
      fact(about, "expires", when(group.expires));
      fact(about, "sealed", group.sealed ? when(group.sealed) : "no (tasks may still be added)");
    }).catch(() => {});
    let filter = "all";
    let tasks = [];
    let drawn = null;

    function draw() {
      const key = JSON.stringify([filter, tasks]);
      if (key === drawn) return; // unchanged: keep the DOM (and a keyboard user's focus)
      drawn = key;
      const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
      for (const t of tasks) counts[t.status.state] = (counts[t.status.state] || 0) + 1;
      announce(summary, `${tasks.length} task(s): `,
              STATES.filter((s) => counts[s]).map((s, i) => [i ? ", " : "", `${counts[s]} ${s}`]));
      replace(filters, ["all", ...STATES].map((s) => h("button", {
        type: "button", "aria-pressed": String(filter === s), "data-filter": s,
        onclick: () => { filter = s; draw(); filters.querySelector(`[data-filter="${s}"]`).focus(); },
      }, `${s} (${s === "all" ? tasks.length : counts[s]})`)));
      const shown = tasks.filter((t) => filter === "all" || t.status.state === filter);
      if (!shown.length) {
        replace(list, h("p", { class: "muted" }, tasks.length ? `No task is ${filter}.` : "No tasks in this group (yet)."));
        return;
      }
      replace(list, cards(h("table", {},
        h("thead", {}, h("tr", {}, ["state", "name", "taskId", "taskQueueId", "runs"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, shown.map((t) => h("tr", { "data-task": t.status.taskId },
          h("td", {}, badge(t.status.state)),
          h("td", { class: "wrap" }, taskLink(t.status.taskId, (t.task.metadata || {}).name || t.status.taskId)),
          h("td", {}, h("code", {}, t.status.taskId)),
          h("td", { class: "wrap" }, t.status.taskQueueId || ""),
          h("td", {}, String((t.status.runs || []).length))))))));
    }

    async function refresh() {
      try {
        tasks = await listAll(`/task-group/${encodeURIComponent(groupId)}/list?limit=200`, "tasks");
        replace(problem);
      } catch (error) {
        announce(problem, errorBox(error));
        return;
      }
      draw();
    }
    // task words: primary.taskId.runId.workerGroup.workerId.provisionerId.workerType.schedulerId.taskGroupId
    follow((m) => routingWords(m)[8] === groupId || routingWords(m)[3] === groupId, refresh, live);
  }

  // -- the index page ------------------------------------------------------------------------------
  function indexPage(main) {
    document.title = "Task inspector";
    const input = h("input", { type: "text", id: "open-id", name: "id", required: true,
                               spellcheck: "false", autocomplete: "off",
                               pattern: "[A-Za-z0-9_-]{22}", "aria-describedby": "open-help" });
    const form = h("form", { class: "open", onsubmit: (event) => {
      event.preventDefault();
      const id = input.value.trim();
      const kind = event.submitter && event.submitter.value === "group" ? "groups/" : "";
      location.href = `${ROOT}/tasks/${kind}${encodeURIComponent(id)}`;
    } },
      h("label", { for: "open-id" }, "A taskId or taskGroupId"), input,
      h("button", { type: "submit", value: "task" }, "Open task"),
      h("button", { type: "submit", value: "group" }, "Open group"));
    const mine = h("div");
    const seen = h("div");
    const live = h("p", { class: "live", role: "status" });
    replace(main, h("h1", {}, "Task inspector"),
            h("p", { id: "open-help", class: "muted" }, "Paste the 22-character id your code printed."),
            form, h("h2", {}, "Opened in this browser"), mine,
            h("h2", {}, "Seen on this queue"), live, seen);
    const recent = remembered();
    replace(mine, recent.length ? h("ul", { class: "plain" }, recent.map((t) => h("li", { "data-task": t.taskId },
      badge(t.state || "unknown"), " ", taskLink(t.taskId, t.name || t.taskId), " ",
      h("code", { class: "muted" }, t.taskId)))) : h("p", { class: "muted" }, "None yet."));
    // The remembered states are those of the last visit: ask for today's, one task at a time.
    (async () => {
      for (const t of recent) {
        try {
          const state = (await api(`/task/${encodeURIComponent(t.taskId)}/status`)).status.state;
          const item = mine.querySelector(`li[data-task="${CSS.escape(t.taskId)}"] .badge`);
          if (item && state !== t.state) item.replaceWith(badge(state));
        } catch (e) { /* expired or from another deployment: keep the old state */ }
      }
    })();

    // The event stream names every task as it changes; without it, only this browser's list.
    const tasks = new Map();
    replace(seen, h("p", { class: "muted" }, "Nothing yet."));
    if (!window.EventSource) return;
    let events = null;
    let lastSeq = 0;
    let missing = false;
    let timer = null;
    const names = new Map(); // taskId -> name (a message carries no name: asked once each)
    async function name(id) {
      if (names.has(id)) return;
      names.set(id, null);
      try {
        names.set(id, ((await api(`/task/${encodeURIComponent(id)}`)).metadata || {}).name || "");
        clearTimeout(timer);
        timer = setTimeout(show, 150);
      } catch (e) { /* shown by its id */ }
    }
    function show() {
      const newest = [...tasks.entries()].reverse().slice(0, 30);
      replace(seen, h("ul", { class: "plain" }, newest.map(([id, state]) => h("li", {},
        badge(state), " ", taskLink(id, names.get(id) || id), " ",
        names.get(id) ? h("code", { class: "muted" }, id) : null))));
      newest.forEach(([id]) => name(id));
    }
    function open() {
      if (missing || events) return;
      const stream = new EventSource(`${ROOT}/mock/v1/events?since=${lastSeq}`);
      events = stream;
      let opened = false;
      live.textContent = "Connecting to the queue's events…";
      stream.addEventListener("open", () => {
        opened = true;
        live.textContent = "Live: following the queue's events";
      });
      stream.addEventListener("error", () => {
        if (!opened) {
          stream.close();
          events = null;
          missing = true;
          live.textContent = "This deployment has no open event stream: only the tasks opened in this browser are listed.";
        }
      });
      stream.addEventListener("message", (event) => {
        lastSeq = Math.max(lastSeq, Number(event.lastEventId) || 0);
        let data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        const status = data.payload && data.payload.status;
        if (!status || !status.taskId) return;
        tasks.delete(status.taskId); // re-inserted: the Map keeps the newest last
        tasks.set(status.taskId, status.state);
        clearTimeout(timer);
        timer = setTimeout(show, 150);
      });
    }
    document.addEventListener("visibilitychange", () => {
      if (document.hidden && events) {
        events.close();
        events = null;
      } else if (!document.hidden) open();
    });
    open();
  }

  // -- routing ---------------------------------------------------------------------------------------
  function notAnId(main, id, kind) {
    document.title = "Not an id · inspector";
    replace(main, h("h1", {}, `Not a ${kind}`),
            h("p", { role: "alert" }, h("code", {}, id), ` is not a ${kind}: ids are 22 characters `,
              "of letters, digits, '-' and '_' (a slugid). "), h("p", {}, h("a", { href: `${ROOT}/tasks/` }, "Open another")));
  }

  function route() {
    const main = document.getElementById("main");
    const path = location.pathname.slice(BASE.length);
    let m;
    const valid = (id) => /^[A-Za-z0-9_-]{22}$/.test(id);
    if ((m = /^\/tasks\/groups\/([^/]+)\/?$/.exec(path))) {
      const id = decodeURIComponent(m[1]);
      if (valid(id)) groupPage(main, id); else notAnId(main, id, "taskGroupId");
    } else if ((m = /^\/tasks\/([^/]+)\/?$/.exec(path)) && m[1] !== "index") {
      const id = decodeURIComponent(m[1]);
      if (valid(id)) taskPage(main, id); else notAnId(main, id, "taskId");
    } else indexPage(main);
  }

  window.TKInspector = { h, append, replace, announce, badge, cards, api, listAll, taskLink, groupLink, when, ago, markdown,
                         safeHref, ROOT, API, STATES, SLUGID };
  if (!(document.currentScript && document.currentScript.dataset.libraryOnly)) route();
})();
