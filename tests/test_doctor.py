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
    from tutorial_kit.dates import parse_date

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
    from tutorial_kit.dates import parse_date

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


def test_a_higher_priority_scope_covers_a_lower_one_as_the_queue_decides():
    """createTask at `lowest` is allowed by the scope of any higher priority, so doctor() must
    not call `queue:create-task:highest:tutorial/*` a missing scope."""
    from tutorial_kit.selfcheck import _holds

    need = "queue:create-task:lowest:tutorial/docker-worker"
    assert _holds(["queue:create-task:highest:tutorial/*"], need)
    assert _holds(["queue:create-task:medium:tutorial/docker-worker"], need)
    assert _holds(["queue:create-task:*"], need)
    assert not _holds(["queue:create-task:highest:tutorial/other"], need)
    assert not _holds(["queue:create-task:lowest:tutorial/docker-worker"],
                      "queue:create-task:high:tutorial/docker-worker")
    assert not _holds(["queue:create-task:highest:tutorial"], need)  # no `*`: no prefix


@pytest.fixture(scope="module")
def classroom():
    from tutorial_kit.mock import start
    from tutorial_kit.mock.security.classroom import enroll

    learners, clients = enroll(["alice"])
    with start(workers=False, claim_wait=0.2, strict=True, clients=clients,
               mode="classroom") as handle:
        yield handle, {"clientId": learners[0].client_id,
                       "accessToken": learners[0].access_token}


def test_doctor_finds_no_problem_for_a_learner_and_names_the_classroom(classroom):
    mock, alice = classroom
    report = tk.doctor(tk.Queue({"rootUrl": mock.root_url, "credentials": alice}))
    by_name = {check.name: check for check in report}
    assert "classroom" in by_name["deployment"].detail
    assert "real Taskcluster deployment" not in by_name["deployment"].detail
    assert by_name["credentials"].ok is True, by_name["credentials"].detail
    assert "classroom/alice" in by_name["credentials"].detail
    assert report.ok, repr(report)


def test_the_first_cell_says_plainly_which_queue_it_is(monkeypatch, capsys, classroom, mock):
    """Embedded mock, a mock named by TASKCLUSTER_ROOT_URL, a classroom, or a real deployment:
    one line each, never one mistaken for another."""
    from tutorial_kit.client.fromnow import use_clock
    from tutorial_kit.connection import deployment_kind

    room, alice = classroom
    assert deployment_kind(room.root_url) == "classroom"
    assert deployment_kind(mock.root_url) == "mock"
    assert deployment_kind("http://127.0.0.1:9") == "deployment"
    try:
        for name in ("TASKCLUSTER_ROOT_URL", "TASKCLUSTER_CLIENT_ID", "TASKCLUSTER_ACCESS_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        tk.connect()
        embedded = capsys.readouterr().out
        assert "embedded mock queue (started by this notebook)" in embedded

        for name, value in mock.env().items():
            monkeypatch.setenv(name, value)
        tk.connect()
        named = capsys.readouterr().out
        assert "the tutorial's mock queue" in named and "TASKCLUSTER_ROOT_URL" in named
        assert "real" not in named and "classroom" not in named

        monkeypatch.setenv("TASKCLUSTER_ROOT_URL", room.root_url)
        monkeypatch.setenv("TASKCLUSTER_CLIENT_ID", alice["clientId"])
        monkeypatch.setenv("TASKCLUSTER_ACCESS_TOKEN", alice["accessToken"])
        queue = tk.connect()
        learner = capsys.readouterr().out
        assert "a classroom's shared mock queue" in learner and "classroom/alice" in learner
        assert "real" not in learner
        task = tk.lessons.tutorial_task(task_queue="built-in/succeed", schedulerId="alice",
                                        payload={})
        assert queue.createTask(tk.slugid(), task)["status"]["state"] == "pending"

        monkeypatch.setenv("TASKCLUSTER_ROOT_URL", "http://127.0.0.1:9")
        tk.connect()
        assert "a real Taskcluster deployment at http://127.0.0.1:9" in capsys.readouterr().out
    finally:
        use_clock(None)
