/* The teacher's dashboard: one row per learner of the classroom, refreshed every 2 s.
 *
 * It reads /mock/v1/dashboard/data (the control plane's summary of the request log and the
 * queue's state), sending the teacher's token from this page's URL in a header. Learners'
 * task names and ids are shown as text only (TKInspector's builders).
 */
"use strict";
(function () {
  const { h, replace, announce, badge, cards, taskLink, STATES } = window.TKInspector;
  const BASE = document.documentElement.dataset.base || "";
  const DATA = `${location.origin}${BASE}/mock/v1/dashboard/data`;
  const token = new URLSearchParams(location.search).get("token") || "";
  const REFRESH_MS = 2000;
  let drawn = null;

  const main = document.getElementById("main");
  const live = h("p", { class: "live", role: "status" }, `Live: refreshed every ${REFRESH_MS / 1000} s`);
  const problem = h("div");
  const table = h("div", { class: "scroll" });
  replace(main, h("h1", {}, "Classroom"), live, problem, table);

  function since(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Math.round(seconds);
    return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : `${Math.floor(s / 3600)} h ago`;
  }

  function row(learner) {
    const counts = STATES.filter((s) => learner.tasks[s]).map((s) =>
      badge(s, `${learner.tasks[s]} ${s}`));
    const last = learner.lastCall;
    return h("tr", { "data-learner": learner.learner },
      h("th", { scope: "row" }, learner.learner),
      h("td", { class: "counts" }, String(learner.taskCount), " ", counts),
      h("td", {}, learner.lesson === null ? h("span", { class: "muted" }, "not started")
        : `lesson ${learner.lesson}: ${learner.lessonTitle || ""}`),
      h("td", {}, last ? [h("code", {}, last.method || last.httpMethod), ` → ${last.status}`,
                          h("br"), h("span", { class: "muted", "data-ago": learner.learner },
                                     since(learner.lastCallAgo))]
        : h("span", { class: "muted" }, "no call yet")),
      h("td", { class: "wrap" }, learner.errors.length
        ? h("ul", { class: "plain" }, learner.errors.map((e) => h("li", { "data-error": e.status },
            `${e.status} `, h("code", {}, e.method || "?"), ` (${e.httpMethod})`)))
        : h("span", { class: "muted" }, "none")),
      h("td", { class: "tasks-cell wrap" }, learner.recentTasks.length
        ? learner.recentTasks.map((t) => h("span", {}, taskLink(t.taskId, t.name || t.taskId),
                                            " ", badge(t.state), " "))
        : h("span", { class: "muted" }, "none")));
  }

  async function refresh() {
    let data;
    try {
      const response = await fetch(DATA, { headers: { "x-teacher-token": token }, cache: "no-store" });
      data = await response.json();
      if (!response.ok) throw new Error(`${response.status}: ${data.message || data.error}`);
    } catch (error) {
      announce(problem, h("p", { class: "error", role: "alert" }, error.message));
      return;
    }
    replace(problem);
    // Only the "how long ago" texts change on a quiet class: update those in place, so the
    // table (and a keyboard user's focus in it) stays put.
    const key = JSON.stringify(data.learners.map((l) => ({ ...l, lastCallAgo: null })));
    if (key === drawn) {
      for (const learner of data.learners) {
        const ago = table.querySelector(`[data-ago="${CSS.escape(learner.learner)}"]`);
        if (ago) ago.textContent = since(learner.lastCallAgo);
      }
      return;
    }
    drawn = key;
    if (!data.learners.length) {
      replace(table, h("p", { class: "muted" }, "This queue has no roster (run `tutorial-kit classroom serve --roster FILE`)."));
      return;
    }
    replace(table, cards(h("table", { "aria-label": "Learners" },
      h("thead", {}, h("tr", {}, ["learner", "tasks", "seems to be on", "last API call",
                                   "recent errors (4xx)", "tasks (newest first)"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.learners.map(row)))));
  }

  async function loop() {
    await refresh();
    setTimeout(loop, REFRESH_MS);
  }
  loop();
})();
