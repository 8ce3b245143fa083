"""Every widget with both client flavours (``Queue`` and ``AsyncQueue``) inside a running event
loop, as in a kernel: several refreshes each, the background refresh, the buttons, and an API
error shown in the widget instead of raised.

Before the fetch/apply split, ``ArtifactBrowser`` with an ``AsyncQueue`` ran its loader in a
thread that drove the client on a second loop: most refreshes showed "RuntimeError: ... bound
to a different event loop". Each test below records every banner a widget showed.
"""

from __future__ import annotations

import asyncio

import pytest

from tutorial_kit import AsyncQueue, Queue, slugid
from tutorial_kit.widgets import (ArtifactBrowser, ClusterControls, EventLog, SchemaTable,
                                  StatusWidget)

from .conftest import claim, error_artifact, make_task, upload

FLAVOURS = ["Queue", "AsyncQueue"]
REFRESHES = 4


def _client(flavour: str, mock):
    cls = Queue if flavour == "Queue" else AsyncQueue
    return cls({"rootUrl": mock.root_url, "credentials": mock.credentials})


async def _close(client) -> None:
    if isinstance(client, AsyncQueue):
        await client.aclose()
    else:
        client.close()


def _banners(html_widget) -> list[str]:
    """Every value an HTML widget shows from now on (to catch a transient error banner)."""
    seen: list[str] = []
    html_widget.observe(lambda change: seen.append(change["new"]), names="value")
    return seen


def _errors(values: list[str]) -> list[str]:
    return [v for v in values if 'class="tk-banner"' in v]


async def _until(predicate, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_status_widget(flavour, mock, queue):
    task_id = make_task(queue, name="flavour status")

    async def scenario():
        client = _client(flavour, mock)
        try:
            widget = StatusWidget(client, task_id, interval=0.05, follow="poll")
            banners = _banners(widget._banner)
            assert widget._refresher.mode == "asyncio"
            for _ in range(REFRESHES):
                status = await widget.arefresh()
                assert status is not None and status["state"] == "pending"
            # the worker completes the run while the widget follows in the loop
            run_id = await asyncio.to_thread(claim, queue, task_id)
            await asyncio.to_thread(queue.reportCompleted, task_id, run_id)
            final = await widget.until_resolved(timeout=10)
            assert final["state"] == "completed" and not widget.running
            assert widget.error == "" and _errors(banners) == []
            assert widget._header.value.count("flavour status") == 1  # the task was read too
        finally:
            await _close(client)

    asyncio.run(scenario())


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_artifact_browser(flavour, mock, queue, tmp_path):
    task_id = make_task(queue)
    run_id = claim(queue, task_id)
    upload(queue, task_id, run_id, "public/hello.txt", b"hello\n", "text/plain")
    upload(queue, task_id, run_id, "public/logs/live.log", b"line 1\nline 2\n", "text/plain")
    error_artifact(queue, task_id, run_id, "public/gone.txt", "file-missing-on-worker",
                   "no such file")

    async def scenario():
        client = _client(flavour, mock)
        try:
            browser = ArtifactBrowser(client, task_id, interval=0.05, download_dir=tmp_path)
            banners = _banners(browser._banner)
            assert browser._refresher.mode == "asyncio"
            await asyncio.sleep(0.5)  # about ten background refreshes of a running run
            for _ in range(REFRESHES):
                await browser.arefresh()
            assert browser.run_state == "running" and browser.running
            assert sorted(a["name"] for a in browser.artifacts) == [
                "public/gone.txt", "public/hello.txt", "public/logs/live.log"]
            assert browser.log_text == "line 1\nline 2"
            assert "file-missing-on-worker" in _row_text(browser, "public/gone.txt")
            assert _errors(banners) == [], _errors(banners)

            # the buttons, clicked in the loop as the kernel runs them
            _button(browser, "public/hello.txt", "preview").click()
            await _until(lambda: browser.preview_text == "hello\n")
            _button(browser, "public/hello.txt", "download").click()
            saved = tmp_path / task_id / str(run_id) / "public" / "hello.txt"
            await _until(saved.exists)
            assert saved.read_bytes() == b"hello\n"
            assert await browser.apreview("public/hello.txt") == "hello\n"

            await asyncio.to_thread(queue.reportCompleted, task_id, run_id)
            assert await browser.until_resolved(timeout=10)
            assert browser.run_state == "completed" and not browser.running
            assert _errors(banners) == [], _errors(banners)
        finally:
            await _close(client)

    asyncio.run(scenario())


def _row(browser, name: str):
    for row in browser._table.children:
        if name in getattr(row.children[0], "value", ""):
            return row
    raise AssertionError(f"no row for {name}")


def _row_text(browser, name: str) -> str:
    return " ".join(getattr(child, "value", "") for child in _row(browser, name).children)


def _button(browser, name: str, label: str):
    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)
    return next(w for w in walk(_row(browser, name)) if getattr(w, "description", None) == label)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_schema_table(flavour, mock, queue):
    task_id = make_task(queue)

    async def scenario():
        client = _client(flavour, mock)
        try:
            status = queue.status(task_id)
            for _ in range(REFRESHES):
                table = SchemaTable("task-status-response.json", queue=client, instance=status)
                assert not table.load_error and len(table.rows) > 10
                assert table.errors == []
                assert table.row("/status/taskId") is not None
        finally:
            await _close(client)

    asyncio.run(scenario())


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_event_log(flavour, mock, queue):
    async def scenario():
        client = _client(flavour, mock)
        try:
            log = EventLog(client)
            assert log.following_mock and log._refresher.mode == "asyncio"
            banners = _banners(log._banner)
            for _ in range(REFRESHES):
                task_id = await asyncio.to_thread(make_task, queue)
                log.taskId = task_id
                frame = await log.until_received("task-pending", timeout=10)
                assert list(frame["exchange"]) == ["task-defined", "task-pending"]
                assert set(frame["taskId"]) == {task_id}
            log.stop()
            assert await log._refresher.until_done(10)
            assert _errors(banners) == []
        finally:
            await _close(client)

    asyncio.run(scenario())


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_cluster_controls(flavour, mock, queue):
    async def scenario():
        client = _client(flavour, mock)
        try:
            controls = ClusterControls(client)
            assert controls.available
            for _ in range(REFRESHES):
                assert controls.pause()["paused"] is True
                controls.refresh()
                assert controls.clock["paused"] is True
                assert controls.resume()["paused"] is False
            controls.fail_next("status", count=2)
            assert "status" in controls._faults_view.value
            controls.clear_faults()
            assert "no faults armed" in controls._faults_view.value
            assert 'class="tk-banner"' not in controls._banner.value
        finally:
            await _close(client)

    asyncio.run(scenario())


# -- an API error is shown, never raised ----------------------------------------------------------

@pytest.mark.parametrize("flavour", FLAVOURS)
def test_status_widget_shows_an_api_error(flavour, mock):
    async def scenario():
        client = _client(flavour, mock)
        try:
            widget = StatusWidget(client, slugid(), interval=0.05, follow="poll")
            await _until(lambda: widget.error)
            assert "ResourceNotFound" in widget.error and "(404)" in widget.error
            assert "ResourceNotFound" in widget._banner.value and widget.running  # retrying
            widget.stop()
        finally:
            await _close(client)

    asyncio.run(scenario())


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_artifact_browser_shows_an_api_error(flavour, mock, tmp_path):
    async def scenario():
        client = _client(flavour, mock)
        try:
            browser = ArtifactBrowser(client, slugid(), interval=0.05,
                                      download_dir=tmp_path)
            await _until(lambda: 'class="tk-banner"' in browser._banner.value)
            assert "ResourceNotFound" in browser._banner.value
            browser.stop()
            # a preview of an artifact that does not exist: a banner in the preview area
            assert await browser.apreview("public/nothing.txt") == ""
            assert 'class="tk-banner"' in browser._preview.children[0].value
        finally:
            await _close(client)

    asyncio.run(scenario())


def test_schema_table_shows_an_api_error(mock):
    table = SchemaTable("no-such-schema.json", root_url=mock.root_url)
    assert "404" in table.load_error
    assert 'class="tk-banner"' in table._header.value and "no-such-schema.json" in table._header.value
    assert table.rows == []


def test_event_log_shows_a_stream_that_went_away():
    from tutorial_kit.mock.server import start

    own = start(workers=False)  # a mock of this test's own, stopped under the log

    async def scenario():
        log = EventLog(root_url=own.root_url)
        assert log.following_mock
        await asyncio.to_thread(own.stop)
        await _until(lambda: 'class="tk-banner"' in log._banner.value, timeout=15)
        assert "retrying" in log._banner.value and log.running  # it keeps trying
        log.stop()
        assert await log._refresher.until_done(10)

    try:
        asyncio.run(scenario())
    finally:
        own.stop()


def test_cluster_controls_show_an_api_error(mock):
    controls = ClusterControls(root_url=mock.root_url)
    assert controls.speed(-5) == {}
    assert 'class="tk-banner"' in controls._banner.value and "(400)" in controls._banner.value
    assert controls.resume()["paused"] is False  # the next good call clears the banner
    assert 'class="tk-banner"' not in controls._banner.value


def test_a_blocking_call_of_an_async_client_in_a_loop_says_what_to_do(mock, queue):
    """refresh() of a widget given an AsyncQueue, inside a running loop, cannot wait for the
    loop it blocks: a clear error naming the async form, never a hang or a second loop."""
    import warnings

    from tutorial_kit import frames
    from tutorial_kit.drive import AsyncInLoopError

    task_id = make_task(queue)

    async def scenario():
        client = _client("AsyncQueue", mock)
        try:
            widget = StatusWidget(client, task_id, start=False)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no "coroutine was never awaited"
                with pytest.raises(AsyncInLoopError, match=r"await widget\.arefresh\(\)"):
                    widget.refresh()
                with pytest.raises(AsyncInLoopError, match="alist_artifacts"):
                    frames.list_artifacts(client, task_id)
            assert (await widget.arefresh())["state"] == "pending"
        finally:
            await _close(client)

    asyncio.run(scenario())
