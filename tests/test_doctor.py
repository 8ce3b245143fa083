"""doctor() and the mock control client, against a real mock queue and an unreachable one."""

from __future__ import annotations

import pytest

import tutorial_kit as tk
from tutorial_kit.mockctl import MockControl, MockOnlyError, is_mock


@pytest.fixture(scope="module")
def mock():
    from tutorial_kit.mock import start

    with start(workers=False, claim_wait=0.2) as handle:
        yield handle


def test_doctor_on_the_mock(mock):
    report = tk.doctor(tk.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials}))
    by_name = {check.name: check for check in report}
    assert "mock queue" in by_name["deployment"].detail
    assert by_name["queue reachable"].ok is True
    assert by_name["versions"].ok is True and "httpx" in by_name["versions"].detail
    # this mock runs without workers on purpose, which the doctor reports (test_doctor_checks.py)
    assert by_name["mock workers"].ok is False
    assert all(check.ok is not False for check in report if check.name != "mock workers")
    assert "<table" in report._repr_html_() and "queue reachable" in repr(report)


def test_doctor_without_credentials_says_what_they_allow(mock):
    report = tk.doctor(tk.Queue({"rootUrl": mock.root_url}))
    credentials = next(c for c in report if c.name == "credentials")
    assert credentials.ok is None and "TASKCLUSTER_CLIENT_ID" in credentials.detail


def test_doctor_reports_an_unreachable_queue_instead_of_raising():
    report = tk.doctor(tk.Queue({"rootUrl": "http://127.0.0.1:9", "maxRetries": 0}))
    reachable = next(c for c in report if c.name == "queue reachable")
    assert reachable.ok is False and "127.0.0.1:9" in reachable.detail
    assert "real Taskcluster deployment" in next(c for c in report if c.name == "deployment").detail
    assert not report.ok


def test_mock_control_moves_the_clock_and_reads_the_request_log(mock):
    control = MockControl(mock.root_url)
    assert control.is_mock() and is_mock(mock)
    before = control.pause()["now"]
    after = control.advance("20 minutes")["now"]
    from tutorial_kit.mock.clock import parse_date

    assert (parse_date(after) - parse_date(before)).total_seconds() == pytest.approx(1200, abs=1)
    control.resume()
    start = control.last_seq()
    tk.Queue({"rootUrl": mock.root_url}).ping()
    entries = control.requests(since=start)
    assert [e["method"] for e in entries] == ["ping"]
    assert control.fail_next("ping", 1, status=500)["requests"]
    control.clear_faults()


def test_mock_only_features_refuse_a_real_deployment_clearly():
    control = MockControl("http://127.0.0.1:9")
    assert not control.is_mock()
    with pytest.raises(MockOnlyError, match="not the tutorial's mock queue"):
        control.advance(60)


def test_connect_makes_fromnow_follow_the_mock_clock(monkeypatch, mock):
    """After the mock's clock moves forward, a task dated with fromNowJSON is still accepted."""
    from tutorial_kit.client.fromnow import use_clock
    from tutorial_kit.mock.clock import parse_date

    for name, value in mock.env().items():
        monkeypatch.setenv(name, value)
    try:
        queue = tk.connect(quiet=True)
        MockControl(mock.root_url).advance("1 hour")
        created = parse_date(tk.fromNowJSON(""))
        assert abs((created - mock.clock.now()).total_seconds()) < 5
        task = tk.lessons.tutorial_task(task_queue="built-in/succeed")
        assert queue.createTask(tk.slugid(), task)["status"]["state"] == "pending"
    finally:
        use_clock(None)


def test_doctor_shows_the_scopes_the_deployment_reports(mock):
    """currentScopes, as a deployment's auth service answers it: the mock serves it too."""
    from tutorial_kit.selfcheck import current_scopes

    queue = tk.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    assert current_scopes(queue, mock.root_url) == ["*"]
    anonymous = current_scopes(tk.Queue({"rootUrl": mock.root_url}), mock.root_url)
    assert "queue:status:*" in anonymous and "*" not in anonymous
    credentials = next(c for c in tk.doctor(queue) if c.name == "credentials")
    assert credentials.ok is True and "tutorial with scopes *" in credentials.detail
    wrong = tk.Queue({"rootUrl": mock.root_url,
                      "credentials": {"clientId": "tutorial", "accessToken": "not-the-token"}})
    refused = next(c for c in tk.doctor(wrong) if c.name == "credentials")
    assert refused.ok is False and "refused" in refused.detail
    narrow = tk.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials,
                       "authorizedScopes": ["queue:status:*"]})
    lacking = next(c for c in tk.doctor(narrow) if c.name == "credentials")
    assert lacking.ok is False and "lacks queue:create-task:lowest:tutorial/docker-worker" in lacking.detail
