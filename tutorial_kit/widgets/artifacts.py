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
import pathlib
import threading
from typing import Any

import ipywidgets as W
import traitlets

from tutorial_kit.render import html as H
from ._client import AsyncInLoopError, acall, call, describe_error
from ._refresh import Following, Refresher

LIVE_LOG = "public/logs/live.log"
PREVIEW_BYTES = 1 << 20  # previews past 1 MiB are cut: a notebook is no place for huge blobs
LOG_TAIL_LINES = 200
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
        self.download_dir = pathlib.Path(download_dir or pathlib.Path.cwd() / "artifacts")
        self.downloads: dict[str, pathlib.Path] = {}
        self._run_ids: list[int] = []
        self._banner = W.HTML()
        self._header = W.HTML()
        self._runs = W.Dropdown(description="run", options=[], layout=W.Layout(width="12em"))
        self._runs.observe(self._on_run, names="value")
        self._table = W.VBox()
        self._preview = W.VBox()
        self._log = W.HTML()
        super().__init__(children=[self._banner, self._header, self._runs, self._table,
                                   self._preview, self._log], **kwargs)
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
        self._step(follow=False)

    def frame(self):
        """The artifacts shown, as a pandas DataFrame."""
        from tutorial_kit.frames import artifacts_frame

        return artifacts_frame(self.artifacts)

    def download(self, name: str, progress: W.FloatProgress | None = None) -> pathlib.Path:
        """Download one artifact of the shown run into ``download_dir``; returns the path."""
        target = self.download_dir / self.taskId / str(self.runId) / name
        target.parent.mkdir(parents=True, exist_ok=True)

        def report(received: int, total: int | None) -> None:
            if progress is not None:
                progress.max = float(total or max(received, 1))
                progress.value = float(received)

        call(self.queue, "downloadArtifact", self.taskId, self.runId, name, file=str(target),
             progress=report)
        self.downloads[name] = target
        return target

    def preview(self, name: str) -> str:
        """Show an artifact inline (text, JSON, image); returns the text shown ('' for images)."""
        artifact = next((a for a in self.artifacts if a.get("name") == name), None)
        content_type = (artifact or {}).get("contentType", "")
        try:
            content = call(self.queue, "downloadArtifact", self.taskId, self.runId, name)
        except Exception as error:
            reason = getattr(error, "reason", None)
            label = f"{reason}: {getattr(error, 'message', '')}" if reason else describe_error(error)
            self._preview.children = [W.HTML(H.banner(f"{name}: {label}"))]
            self.preview_text = ""
            return ""
        title = W.HTML(f'<div class="tk-title">{H.esc(name)}</div>')
        if is_image(content_type) and len(content) <= PREVIEW_BYTES:
            fmt = content_type.split("/", 1)[1].split(";")[0]
            self._preview.children = [title, W.Image(value=content, format=fmt)]
            self.preview_text = ""
            return ""
        self._preview.children = [title, W.HTML(preview_html(content, content_type, name))]
        self.preview_text = content[:PREVIEW_BYTES].decode("utf-8", "replace")
        return self.preview_text

    def __repr__(self) -> str:
        return f"ArtifactBrowser(run_state={self.run_state!r}, artifacts={len(self.artifacts)})"

    # -- following ------------------------------------------------------------------------------

    def _step(self, follow: bool = True) -> float | None:
        try:
            status = call(self.queue, "status", self.taskId)
            runs = (status.get("status") or {}).get("runs") or []
            run = self._pick_run(runs)
            if run is None:
                self._show_note("no runs yet: artifacts belong to a run")
                return self.interval if follow else None
            artifacts, reasons, log = self._load(run)
        except AsyncInLoopError:
            raise
        except Exception as error:
            self._banner.value = H.banner(f"{describe_error(error)} — retrying")
            return self.interval * 2
        self._show(runs, run, artifacts, reasons, log)
        return self._next(run)

    async def _astep(self) -> float | None:
        try:
            status = await acall(self.queue, "status", self.taskId)
            runs = (status.get("status") or {}).get("runs") or []
            run = self._pick_run(runs)
            if run is None:
                self._show_note("no runs yet: artifacts belong to a run")
                return self.interval
            artifacts, reasons, log = await asyncio.to_thread(self._load, run)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._banner.value = H.banner(f"{describe_error(error)} — retrying")
            return self.interval * 2
        self._show(runs, run, artifacts, reasons, log)
        return self._next(run)

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

    def _load(self, run: dict[str, Any]) -> tuple[list[dict], dict[str, str], str | None]:
        """(artifacts, error-artifact reasons by name, live-log tail or None); blocking."""
        from tutorial_kit.frames import list_artifacts

        artifacts = list_artifacts(self.queue, self.taskId, run["runId"])
        reasons = {}
        for artifact in artifacts:
            if artifact.get("storageType") == "error":
                reasons[artifact["name"]] = self._error_reason(run["runId"], artifact["name"])
        return artifacts, reasons, self._fetch_log(run, artifacts)

    def _fetch_log(self, run: dict[str, Any], artifacts: list[dict[str, Any]]) -> str | None:
        if not any(a.get("name") == LIVE_LOG for a in artifacts):
            return None
        try:
            content = call(self.queue, "downloadArtifact", self.taskId, run["runId"], LIVE_LOG)
        except Exception as error:  # a log that is not there yet is not a failure of the view
            return f"(log not available yet: {describe_error(error)})"
        lines = content.decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:])

    # -- rendering ------------------------------------------------------------------------------------

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
                              f'{H.badge(self.run_state)}</div>')
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
            f'<code>{H.esc(name)}</code> <span class="tk-chip">{H.esc(storage)}</span> '
            f'<span class="tk-muted">{H.esc(artifact.get("contentType", ""))} · expires '
            f'{H.esc(artifact.get("expires", ""))}</span>',
            layout=W.Layout(width="60%"))
        if storage == "error":
            return W.HBox([info, W.HTML(reasons.get(name, ""))])
        progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, layout=W.Layout(width="10em"))
        download = W.Button(description="download", icon="download",
                            tooltip=f"download {name} into {self.download_dir}")
        preview = W.Button(description="preview", icon="eye", tooltip=f"show {name} here")
        preview.add_class("tk-preview-button")
        saved = W.HTML()

        def on_download(_: Any) -> None:
            self._in_background(lambda: saved.__setattr__(
                "value", f'<span class="tk-muted">saved {H.esc(self.download(name, progress))}'
                         f'</span>'), saved)

        def on_preview(_: Any) -> None:
            self._in_background(lambda: self.preview(name), saved)

        download.on_click(on_download)
        preview.on_click(on_preview)
        return W.HBox([info, download, progress, preview, saved])

    def _error_reason(self, runId: int, name: str) -> str:
        try:
            content = call(self.queue, "artifact", self.taskId, runId, name)
        except Exception as error:
            return H.banner(describe_error(error))
        return (f'<span class="tk-error" role="note">⚠ {H.esc(content.get("reason"))}: '
                f'{H.esc(content.get("message"))}</span>')

    @staticmethod
    def _in_background(work: Any, report: W.HTML) -> None:
        # Button callbacks run on the kernel's message loop: keep it free during transfers.
        def run() -> None:
            try:
                work()
            except Exception as error:
                report.value = H.banner(describe_error(error))

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
