"""The pytest plugin, as a user of the package meets it: a test file in a fresh directory, run
by pytest in a subprocess that finds the plugin through its ``pytest11`` entry point."""

from __future__ import annotations

import importlib.metadata

import pytest

pytest_plugins = ["pytester"]


def test_the_entry_point_names_the_plugin() -> None:
    points = importlib.metadata.entry_points(group="pytest11")
    assert any(p.name == "tutorial_kit" and p.value == "tutorial_kit.pytest_plugin"
               for p in points)


def test_mock_queue_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_code='''
        import time
        from datetime import timedelta

        import tutorial_kit as tk

        def make_task(queue, task_queue_id, deadline="1 hour"):
            task_id = tk.slugId()
            queue.createTask(task_id, {
                "taskQueueId": task_queue_id, "created": tk.fromNowJSON(""),
                "deadline": tk.fromNowJSON(deadline), "payload": {},
                "metadata": {"name": "t", "description": "d", "owner": "me@example.com",
                             "source": "https://example.com"}})
            return task_id

        def test_create_and_resolve(mock_queue):
            task_id = make_task(mock_queue, "built-in/succeed")
            for _ in range(1500):
                if mock_queue.status(task_id)["status"]["state"] == "completed":
                    break
                time.sleep(0.02)
            assert mock_queue.status(task_id)["status"]["state"] == "completed"
            methods = [r.method for r in mock_queue.mock.request_log.since(0)]
            assert "createTask" in methods and "reportCompleted" in methods

        def test_clock_and_faults(mock_queue):
            task_id = make_task(mock_queue, "nobody/here", deadline="5 minutes")
            mock_queue.mock.clock.advance(timedelta(minutes=6))
            for _ in range(1500):
                if mock_queue.status(task_id)["status"]["state"] == "exception":
                    break
                time.sleep(0.02)
            assert mock_queue.status(task_id)["status"]["state"] == "exception"

        def test_faults(mock_queue):
            mock_queue.mock.faults.fail_next("ping", status=500)
            try:
                tk.Queue({"rootUrl": mock_queue.options["rootUrl"], "maxRetries": 0}).ping()
            except tk.TaskclusterError as error:
                assert error.status_code == 500
            else:
                raise AssertionError("the injected fault did not fire")
            assert mock_queue.ping()["alive"] is True   # only the next one

        made = []

        def test_each_test_has_a_fresh_mock(mock_queue):
            made.append(make_task(mock_queue, "fresh/one"))
            assert mock_queue.status(made[0])["status"]["state"] == "pending"

        def test_and_it_is_fresh_again(mock_queue):
            try:
                mock_queue.status(made[0])
            except tk.TaskclusterError as error:
                assert error.status_code == 404
            else:
                raise AssertionError("the task of the previous test is still there")
    ''')
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_mock_queue_url_with_the_official_client(pytester: pytest.Pytester) -> None:
    pytest.importorskip("taskcluster")
    pytester.makepyfile(test_official='''
        import os
        import taskcluster

        def test_official_client(mock_queue_url):
            assert mock_queue_url.startswith("http://127.0.0.1:")
            assert os.environ["TASKCLUSTER_ROOT_URL"] == mock_queue_url
            queue = taskcluster.Queue(taskcluster.optionsFromEnvironment())
            task_id = taskcluster.slugId()
            queue.createTask(task_id, {
                "taskQueueId": "official/client", "created": taskcluster.fromNowJSON(""),
                "deadline": taskcluster.fromNowJSON("1 hour"), "payload": {},
                "metadata": {"name": "t", "description": "d", "owner": "me@example.com",
                             "source": "https://example.com"}})
            assert queue.status(task_id)["status"]["state"] == "pending"
            assert mock_queue_url.credentials["clientId"] == "tutorial"
            assert any(r.method == "createTask" for r in mock_queue_url.mock.request_log.since(0))
    ''')
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_mock_queue_url_goes_straight_into_a_client_options(mock_queue_url):
    """``Queue({"rootUrl": mock_queue_url})``: the client deep-copies its options, and the URL
    carries the running mock; the copy is the plain URL (it once failed: cannot pickle RLock)."""
    import copy
    import pickle

    import taskcluster

    from tutorial_kit import Queue

    with Queue({"rootUrl": mock_queue_url, "credentials": mock_queue_url.credentials}) as queue:
        assert queue.ping()["alive"] is True
    official = taskcluster.Queue({"rootUrl": mock_queue_url,
                                  "credentials": mock_queue_url.credentials})
    assert official.ping()["alive"] is True
    assert type(copy.deepcopy(mock_queue_url)) is str
    assert pickle.loads(pickle.dumps(mock_queue_url)) == mock_queue_url
