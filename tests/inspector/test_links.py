"""Links to the inspector: the URLs (the UI's paths on any deployment) and the widgets' link."""

from __future__ import annotations

import httpx
import pytest

from tutorial_kit import Queue
from tutorial_kit.inspector import group_url, index_url, inspector_link, inspector_url


def test_urls_follow_the_deployment_ui_paths() -> None:
    root = "https://tc.example.com/"
    assert inspector_url(root, "fN1SbArXTPSVFNUvaOlinQ") == \
        "https://tc.example.com/tasks/fN1SbArXTPSVFNUvaOlinQ"
    assert group_url(root, "fN1SbArXTPSVFNUvaOlinQ") == \
        "https://tc.example.com/tasks/groups/fN1SbArXTPSVFNUvaOlinQ"
    assert index_url("http://127.0.0.1:8080/prefix") == "http://127.0.0.1:8080/prefix/tasks/"
    assert inspector_url(root, "a/b?c") == "https://tc.example.com/tasks/a%2Fb%3Fc"
    with pytest.raises(ValueError, match="rootUrl"):
        inspector_url("", "x")


def test_the_widget_link_is_escaped_and_never_fails(monkeypatch) -> None:
    link = inspector_link("http://h/\"><x", "id")
    assert link.startswith('<a class="tk-inspector-link" href="http://h/&quot;&gt;&lt;x/tasks/id"')
    assert 'target="_blank"' in link and "open in inspector" in link
    monkeypatch.delenv("TASKCLUSTER_ROOT_URL", raising=False)
    assert inspector_link(object(), "id") == ""  # no rootUrl known: no link, no error
    monkeypatch.setenv("TASKCLUSTER_ROOT_URL", "http://tc.example.com")
    assert 'href="http://tc.example.com/tasks/id"' in inspector_link(object(), "id")


def test_status_widget_and_artifact_browser_link_to_the_task_page(monkeypatch) -> None:
    from tutorial_kit.widgets import ArtifactBrowser, StatusWidget

    monkeypatch.delenv("TASKCLUSTER_ROOT_URL", raising=False)
    queue = Queue({"rootUrl": "http://127.0.0.1:9"})
    url = "http://127.0.0.1:9/tasks/fN1SbArXTPSVFNUvaOlinQ"
    status = StatusWidget(queue, "fN1SbArXTPSVFNUvaOlinQ", start=False)
    assert f'href="{url}"' in status._header.value
    browser = ArtifactBrowser(queue, "fN1SbArXTPSVFNUvaOlinQ", start=False)
    browser._show([{"runId": 0, "state": "running"}], {"runId": 0, "state": "running"}, [], {},
                  None)
    assert f'href="{url}"' in browser._header.value


def test_the_printed_link_opens_the_page_on_the_mock() -> None:
    from tutorial_kit.mock.server import start

    with start(workers=False, prefix="/under/here") as mock:
        page = httpx.get(inspector_url(mock.root_url, "fN1SbArXTPSVFNUvaOlinQ"))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert 'src="/under/here/inspector/inspector.js"' in page.text  # the prefix is kept
        script = httpx.get(f"{mock.root_url}/inspector/inspector.js")
        assert script.status_code == 200 and "function taskPage" in script.text
        # only the listed assets: not the page templates, nothing beside them
        assert httpx.get(f"{mock.root_url}/inspector/page.html").status_code == 404
        assert httpx.get(f"{mock.root_url}/inspector/%2E%2E%2Froutes.py").status_code == 404


def test_notebooks_reach_the_links_as_tk_inspector() -> None:
    import tutorial_kit as tk

    assert tk.inspector.inspector_url("http://127.0.0.1:1", "x") == "http://127.0.0.1:1/tasks/x"
