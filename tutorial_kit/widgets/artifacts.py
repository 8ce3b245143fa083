"""ArtifactBrowser: the artifacts of a run, with downloads, previews and the live log.

The table lists the artifacts of the latest run (or the chosen one): name, storage type, content
type, expiry. Each row has a download button with a progress bar and a preview button (text,
JSON and images inline). Error artifacts show the worker's reason instead. While the run is
running, the list and ``public/logs/live.log`` refresh in the background; following stops once
the run is resolved.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as W
import traitlets

from tutorial_kit import drive
from tutorial_kit.drive import Call, Plan
from tutorial_kit.frames import artifacts_plan
from tutorial_kit.inspector import inspector_link
from tutorial_kit.render import html as H

from ._client import describe_error
from ._refresh import Following, Refresher

LIVE_LOG = "public/logs/live.log"
PREVIEW_BYTES = 1 << 20  # previews past 1 MiB are cut: a notebook is no place for huge blobs
LOG_TAIL_LINES = 200
#: Where downloads go by default, relative to the notebook's folder: a name a learner recognises
#: in JupyterLab's file browser, holding a ``.gitignore`` of its own so git never picks it up.
DOWNLOAD_DIR = "downloaded-artifacts"
_TEXT_TYPES = ("application/json", "application/xml", "application/x-yaml", "application/yaml",
               "application/javascript", "application/x-sh")


def is_text(content_type: str) -> bool:
    content_type = (content_type or "").split(";")[0].strip().lower()
    return (content_type.startswith("text/") or content_type in _TEXT_TYPES
            or content_type.endswith(("+json", "+xml")))


def is_image(content_type: str) -> bool:
    return (content_type or "").lower().startswith("image/")


def preview_html(content: bytes, content_type: str, name: str = "") -> str:
    """HTML for a text or JSON artifact (escaped); a note for anything else."""
    if not is_text(content_type) and not name.endswith((".txt", ".log", ".json")):
        return H.banner(f"no inline preview for {content_type or 'unknown type'} "
                        f"({len(content)} bytes); use the download button", kind="note")
    text = content[:PREVIEW_BYTES].decode("utf-8", "replace")
    if "json" in (content_type or "") or name.endswith(".json"):
        try:
            return H.pretty_json(json.loads(text))
        except ValueError:
            pass  # not valid JSON after all: show it as text
    cut = " (cut at 1 MiB)" if len(content) > PREVIEW_BYTES else ""
    return f'<pre class="tk-preview tk-mono" data-artifact="{H.esc(name)}">{H.esc(text)}</pre>' + (
        f'<div class="tk-muted">{cut}</div>' if cut else "")


@dataclass
class Loaded:
    """What one refresh read: the runs, the run shown, its artifacts, error reasons, log tail."""

    runs: list[dict[str, Any]]
    run: dict[str, Any] | None
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # error artifact name -> HTML
    log: str | None = None


def _progress_reporter(progress: W.FloatProgress | None) -> Callable[[int, int | None], None]:
    def report(received: int, total: int | None) -> None:
        if progress is not None:  # trait assignments only: safe from a thread or a task
            progress.max = float(total or max(received, 1))
            progress.value = float(received)
    return report


def _row_layout() -> W.Layout:
    """A row wraps its status line ("saved …") under the buttons rather than squeeze them."""
    return W.Layout(flex_flow="row wrap", align_items="center", width="100%")


class ArtifactBrowser(Following, W.VBox):
    """The artifacts of ``taskId``'s latest run (or ``runId``), live while the run runs."""

    artifacts = traitlets.List()
    runId = traitlets.Int(-1)  # -1 until known
    run_state = traitlets.Unicode("")
    log_text = traitlets.Unicode("")
    preview_text = traitlets.Unicode("")  # the text shown in the preview (empty for images)

    def __init__(self, queue: Any, taskId: str, runId: int | None = None, *,
                 interval: float = 2.0, download_dir: str | pathlib.Path | None = None,
                 start: bool = True, **kwargs: Any):
        if not isinstance(taskId, str) or not taskId:
            raise ValueError("ArtifactBrowser needs a taskId")
        self.queue = queue
        self.taskId = taskId
        self.interval = float(interval)
        self._chosen_run = runId
        self.download_dir = pathlib.Path(download_dir or pathlib.Path.cwd() / DOWNLOAD_DIR)
        self.downloads: dict[str, pathlib.Path] = {}
        self._run_ids: list[int] = []
        self._banner = W.HTML()
        self._header = W.HTML()
        self._runs = W.Dropdown(description="run", options=[], layout=W.Layout(width="12em"))
        self._runs.observe(self._on_run, names="value")
        self._table = W.VBox()
        self._preview = W.VBox()
        self._log = W.HTML()
        self._where = W.HTML(self._where_html())
        self._tasks: set[asyncio.Task] = set()  # button work in the kernel's loop, kept alive
        super().__init__(children=[self._banner, self._header, self._runs, self._where,
                                   self._table, self._preview, self._log], **kwargs)
        self.add_class("tk-widget")
        self._header.value = H.stylesheet()
        self._refresher = Refresher(self._step, self._astep, name=f"ArtifactBrowser {taskId}")
        self._settling = False
        self._log_shown: tuple[str, str] | None = None
        if start:
            self.start()

    # -- public API ------------------------------------------------------------------------------

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until the run is resolved and the final list and log are shown."""
        return self._refresher.wait(timeout)

    async def until_resolved(self, timeout: float | None = 60.0) -> bool:
        return await self._refresher.until_done(timeout)

    def refresh(self) -> None:
        """Reload the runs, the artifact list and the live log once."""
        self._apply(drive.run(self.queue, self._fetch()), follow=False)

    async def arefresh(self) -> None:
        """:meth:`refresh` for a coroutine, with either client flavour."""
        self._apply(await drive.arun(self.queue, self._fetch()), follow=False)

    def frame(self):
        """The artifacts shown, as a pandas DataFrame."""
        from tutorial_kit.frames import artifacts_frame

        return artifacts_frame(self.artifacts)

    def download(self, name: str, progress: W.FloatProgress | None = None) -> pathlib.Path:
        """Download one artifact of the shown run into ``download_dir``; returns the path."""
        target = self._target(name)
        drive.run(self.queue, self._download(name, target, progress))
        self.downloads[name] = target
        return target

    async def adownload(self, name: str,
                        progress: W.FloatProgress | None = None) -> pathlib.Path:
        """:meth:`download` for a coroutine, with either client flavour."""
        target = self._target(name)
        await drive.arun(self.queue, self._download(name, target, progress))
        self.downloads[name] = target
        return target

    def preview(self, name: str) -> str:
        """Show an artifact inline (text, JSON, image); returns the text shown ('' for images)."""
        return self._show_preview(name, drive.run(self.queue, self._fetch_content(name)))

    async def apreview(self, name: str) -> str:
        """:meth:`preview` for a coroutine, with either client flavour."""
        return self._show_preview(name, await drive.arun(self.queue, self._fetch_content(name)))

    def __repr__(self) -> str:
        return f"ArtifactBrowser(run_state={self.run_state!r}, artifacts={len(self.artifacts)})"

    # -- following ------------------------------------------------------------------------------

    # fetch (once, for both client flavours) ---------------------------------------------------

    def _fetch(self) -> Plan["Loaded | Exception"]:
        """The reads of one refresh; an API error is returned, to be shown, not raised."""
        try:
            status = yield Call.of("status", self.taskId)
            runs = (status.get("status") or {}).get("runs") or []
            run = self._pick_run(runs)
            if run is None:
                return Loaded(runs, None)
            run_id = run["runId"]
            artifacts = yield from artifacts_plan(self.taskId, run_id)
            reasons = {}
            for artifact in artifacts:
                if artifact.get("storageType") == "error":
                    try:
                        content = yield Call.of("artifact", self.taskId, run_id, artifact["name"])
                    except Exception as error:
                        reasons[artifact["name"]] = H.banner(describe_error(error))
                    else:
                        reasons[artifact["name"]] = (
                            f'<span class="tk-error" role="note">⚠ '
                            f'{H.esc(content.get("reason"))}: {H.esc(content.get("message"))}'
                            f'</span>')
            log = None
            if any(a.get("name") == LIVE_LOG for a in artifacts):
                try:
                    content = yield Call.of("downloadArtifact", self.taskId, run_id, LIVE_LOG)
                except Exception as error:  # a log not there yet is no failure of the view
                    log = f"(log not available yet: {describe_error(error)})"
                else:
                    lines = content.decode("utf-8", "replace").splitlines()
                    log = "\n".join(lines[-LOG_TAIL_LINES:])
            return Loaded(runs, run, artifacts, reasons, log)
        except Exception as error:
            return error

    def _fetch_content(self, name: str) -> Plan["bytes | Exception"]:
        try:
            return (yield Call.of("downloadArtifact", self.taskId, self.runId, name))
        except Exception as error:
            return error

    def _download(self, name: str, target: pathlib.Path,
                  progress: W.FloatProgress | None) -> Plan[None]:
        yield Call.of("downloadArtifact", self.taskId, self.runId, name, file=str(target),
                      progress=_progress_reporter(progress))

    # apply (shared) ------------------------------------------------------------------------------

    def _apply(self, loaded: "Loaded | Exception", follow: bool = True) -> float | None:
        if isinstance(loaded, Exception):
            self._banner.value = H.banner(f"{describe_error(loaded)} — retrying")
            return self.interval * 2
        if loaded.run is None:
            self._show_note("no runs yet: artifacts belong to a run")
            return self.interval if follow else None
        self._show(loaded.runs, loaded.run, loaded.artifacts, loaded.reasons, loaded.log)
        return self._next(loaded.run)

    def _step(self) -> float | None:
        return self._apply(drive.run(self.queue, self._fetch()))

    async def _astep(self) -> float | None:
        return self._apply(await drive.arun(self.queue, self._fetch()))

    def _next(self, run: dict[str, Any]) -> float | None:
        if run.get("state") in ("pending", "running"):
            return self.interval
        return None  # a resolved run's artifacts and log are final

    def _pick_run(self, runs: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not runs:
            return None
        if self._chosen_run is not None and 0 <= self._chosen_run < len(runs):
            return runs[self._chosen_run]
        return runs[-1]

    def _target(self, name: str) -> pathlib.Path:
        """Where ``name`` is saved; the folder is made (with its .gitignore) on first use."""
        run_dir = (self.download_dir / self.taskId / str(self.runId)).resolve()
        target = (run_dir / name).resolve()
        if run_dir not in target.parents:  # an artifact name is the worker's choice: "../x"
            raise ValueError(f"artifact name {name!r} points outside {run_dir}")
        if not self.download_dir.exists():
            self.download_dir.mkdir(parents=True)
            (self.download_dir / ".gitignore").write_text(
                "# artifacts downloaded by tutorial-kit's ArtifactBrowser: not for git\n*\n")
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _shown_path(self, path: pathlib.Path) -> str:
        """A path as a learner finds it: relative to the notebook's folder when inside it."""
        try:
            return os.path.relpath(path, pathlib.Path.cwd()) if path.is_relative_to(
                pathlib.Path.cwd()) else str(path)
        except ValueError:
            return str(path)

    def _where_html(self) -> str:
        return (f'<div class="tk-muted tk-where">Downloads go to <code>'
                f'{H.esc(self._shown_path(self.download_dir.resolve()))}/</code> '
                f'(git ignores that folder)</div>')

    # -- rendering ------------------------------------------------------------------------------------

    def _show_preview(self, name: str, content: "bytes | Exception") -> str:
        if isinstance(content, Exception):
            reason = getattr(content, "reason", None)
            label = (f"{reason}: {getattr(content, 'message', '')}" if reason
                     else describe_error(content))
            self._preview.children = [W.HTML(H.banner(f"{name}: {label}"))]
            self.preview_text = ""
            return ""
        artifact = next((a for a in self.artifacts if a.get("name") == name), None)
        content_type = (artifact or {}).get("contentType", "")
        title = W.HTML(f'<div class="tk-title">{H.esc(name)}</div>')
        if is_image(content_type) and len(content) <= PREVIEW_BYTES:
            fmt = content_type.split("/", 1)[1].split(";")[0]
            self._preview.children = [title, W.Image(value=content, format=fmt)]
            self.preview_text = ""
            return ""
        self._preview.children = [title, W.HTML(preview_html(content, content_type, name))]
        self.preview_text = content[:PREVIEW_BYTES].decode("utf-8", "replace")
        return self.preview_text

    def _show_note(self, text: str) -> None:
        self._banner.value = H.banner(text, kind="note")

    def _show(self, runs: list[dict[str, Any]], run: dict[str, Any],
              artifacts: list[dict[str, Any]], reasons: dict[str, str], log: str | None) -> None:
        self._banner.value = ""
        run_ids = [r["runId"] for r in runs]
        if run_ids != self._run_ids:
            self._run_ids = run_ids
            self._settling = True
            try:
                self._runs.options = [(f"run {i}", i) for i in run_ids]
                self._runs.value = run["runId"]
            finally:
                self._settling = False
        self.runId = int(run["runId"])
        self.run_state = str(run.get("state", ""))
        self._header.value = (H.stylesheet() +
                              f'<div class="tk-widget">Artifacts of run {self.runId} '
                              f'{H.badge(self.run_state)} '
                              f'{inspector_link(self.queue, self.taskId)}</div>')
        if artifacts != self.artifacts:
            self.artifacts = artifacts
            self._table.children = self._rows(artifacts, reasons)
        live = " (live)" if self.run_state == "running" else ""
        if log is not None and (log, live) != self._log_shown:
            self.log_text = log
            self._log_shown = (log, live)
            self._log.value = (f'<div class="tk-title">{H.esc(LIVE_LOG)}{live}</div>'
                               f'<pre class="tk-preview tk-mono">{H.esc(log)}</pre>')

    def _rows(self, artifacts: list[dict[str, Any]], reasons: dict[str, str]) -> list[W.Widget]:
        if not artifacts:
            return [W.HTML('<div class="tk-muted">no artifacts on this run</div>')]
        return [self._row(artifact, reasons) for artifact in artifacts]

    def _row(self, artifact: dict[str, Any], reasons: dict[str, str]) -> W.Widget:
        name = str(artifact.get("name", ""))
        storage = str(artifact.get("storageType", ""))
        info = W.HTML(
            f'<div class="tk-artifact"><code>{H.esc(name)}</code> '
            f'<span class="tk-chip">{H.esc(storage)}</span> '
            f'<span class="tk-muted">{H.esc(artifact.get("contentType", ""))} · expires '
            f'{H.esc(artifact.get("expires", ""))}</span></div>',
            layout=W.Layout(flex="1 1 16em", min_width="12em"))
        info.add_class("tk-artifact-info")
        if storage == "error":
            return W.HBox([info, W.HTML(reasons.get(name, ""))], layout=_row_layout())
        # Buttons keep their natural width (never squeezed to "dow…"); the name column gives.
        fixed = dict(flex="0 0 auto", width="auto")
        progress = W.FloatProgress(value=0.0, min=0.0, max=1.0,
                                   layout=W.Layout(flex="0 0 8em", width="8em"))
        download = W.Button(description="download", icon="download", layout=W.Layout(**fixed),
                            tooltip=f"download {name} into {self.download_dir}")
        download.add_class("tk-download-button")
        preview = W.Button(description="preview", icon="eye", tooltip=f"show {name} here",
                           layout=W.Layout(**fixed))
        preview.add_class("tk-preview-button")
        saved = W.HTML(layout=W.Layout(flex="1 1 100%"))

        def show_saved(path: pathlib.Path) -> None:
            saved.value = (f'<div class="tk-muted tk-artifact">saved '
                           f'{H.esc(self._shown_path(path))}</div>')

        async def adownload() -> None:
            show_saved(await self.adownload(name, progress))

        async def apreview() -> None:
            await self.apreview(name)

        download.on_click(lambda _: self._in_background(
            lambda: show_saved(self.download(name, progress)), adownload, saved))
        preview.on_click(lambda _: self._in_background(lambda: self.preview(name), apreview,
                                                       saved))
        # the three controls wrap as one group, below the name when the cell is narrow
        controls = W.HBox([download, progress, preview],
                          layout=W.Layout(flex="0 0 auto", align_items="center"))
        return W.HBox([info, controls, saved], layout=_row_layout())

    def _in_background(self, sync_work: Callable[[], Any],
                       async_work: Callable[[], Any], report: W.HTML) -> None:
        """Run a button's work without blocking the kernel: a task on the running loop (the
        client is driven on its own loop, whichever flavour), else a thread (plain Python)."""
        def failed(error: BaseException) -> None:
            report.value = H.banner(describe_error(error))

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            async def work() -> None:
                try:
                    await async_work()
                except Exception as error:
                    failed(error)

            task = loop.create_task(work())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return

        def run() -> None:
            try:
                sync_work()
            except Exception as error:
                failed(error)

        threading.Thread(target=run, daemon=True, name="artifact transfer").start()

    def _on_run(self, change: dict[str, Any]) -> None:
        if self._settling or change["new"] is None:
            return
        self._chosen_run = int(change["new"])
        self.artifacts = []
        self.log_text = ""
        self._log_shown = None
        self._log.value = ""
        self.start()
