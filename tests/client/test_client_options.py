"""Options: dict and keywords, the environment, and clear errors for bad configuration."""

from __future__ import annotations

import pytest

import tutorial_kit
from tutorial_kit.client import (AsyncQueue, Queue, TaskclusterConfigError, TaskclusterError,
                                 optionsFromEnvironment)

ENV = ("TASKCLUSTER_ROOT_URL", "TASKCLUSTER_CLIENT_ID", "TASKCLUSTER_ACCESS_TOKEN",
       "TASKCLUSTER_CERTIFICATE")


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_public_names_resolve_lazily():
    assert tutorial_kit.Queue is Queue and tutorial_kit.AsyncQueue is AsyncQueue
    assert tutorial_kit.TaskclusterError is TaskclusterError
    assert callable(tutorial_kit.slugid) and callable(tutorial_kit.fromNowJSON)


def test_missing_root_url_says_how_to_set_it(clean_env):
    for make in (lambda: Queue(), lambda: Queue({}), lambda: Queue.fromEnv()):
        with pytest.raises(TaskclusterConfigError) as info:
            make()
        text = str(info.value)
        assert "export TASKCLUSTER_ROOT_URL=" in text and "tutorial_kit.connect()" in text
        assert isinstance(info.value, TaskclusterError) and isinstance(info.value, ValueError)


def test_from_env(clean_env):
    clean_env.setenv("TASKCLUSTER_ROOT_URL", "https://tc.example.com/")
    clean_env.setenv("TASKCLUSTER_CLIENT_ID", "me")
    clean_env.setenv("TASKCLUSTER_ACCESS_TOKEN", "tok")
    clean_env.setenv("TASKCLUSTER_CERTIFICATE", '{"version": 1}')
    assert optionsFromEnvironment() == {
        "rootUrl": "https://tc.example.com",
        "credentials": {"clientId": "me", "accessToken": "tok", "certificate": '{"version": 1}'}}
    for q in (Queue.fromEnv(), Queue.from_env(maxRetries=2), AsyncQueue.fromEnv()):
        assert q.rootUrl == "https://tc.example.com"
        assert q.options.credentials.clientId == "me"
        assert q.options.credentials.certificate == {"version": 1}
    assert Queue.from_env(maxRetries=2).options.maxRetries == 2


def test_keywords_and_dict_and_defaults(clean_env):
    q = Queue({"rootUrl": "http://a", "maxRetries": 1}, rootUrl="http://b/", timeout=3)
    assert (q.rootUrl, q.options.maxRetries, q.options.timeout) == ("http://b", 1, 3.0)
    d = Queue(rootUrl="http://x").options
    assert (d.maxRetries, d.timeout, d.signedUrlExpiration, d.credentials) == (5, 30.0, 900, None)


def test_options_dict_is_not_mutated():
    options = {"rootUrl": "http://x", "credentials": {"clientId": "a", "accessToken": "b"}}
    Queue(options)
    assert options == {"rootUrl": "http://x", "credentials": {"clientId": "a", "accessToken": "b"}}


@pytest.mark.parametrize("options,match", [
    ({"rootUrl": "tc.example.com"}, "http"),
    ({"rootUrl": "http://x", "credentials": {"clientId": "a"}}, "no accessToken"),
    ({"rootUrl": "http://x", "credentials": {"clientId": "a", "accessToken": "b",
                                             "certificate": "{not json"}}, "not valid JSON"),
    ({"rootUrl": "http://x", "credentials": "a:b"}, "must be a dict"),
    ({"rootUrl": "http://x", "authorizedScopes": "queue:*"}, "list of scope strings"),
    ({"rootUrl": "http://x", "maxRetries": -1}, "maxRetries"),
    ({"rootUrl": "http://x", "timeout": 0}, "timeout"),
    ({"baseUrl": "http://x/api/queue/v1"}, "rootUrl"),
])
def test_bad_options(options, match):
    with pytest.raises(TaskclusterConfigError, match=match):
        Queue(options)


def test_empty_credentials_mean_anonymous():
    q = Queue({"rootUrl": "http://x", "credentials": {"clientId": None, "accessToken": None}})
    assert q.options.credentials is None and "anonymous" in repr(q)


def test_options_read_like_the_official_dict():
    cert = {"version": 1, "scopes": []}
    q = Queue({"rootUrl": "http://x/", "maxRetries": 2, "authorizedScopes": ["a"],
               "credentials": {"clientId": "c", "accessToken": "t", "certificate": cert}})
    assert q.options["rootUrl"] == "http://x" and q.options["maxRetries"] == 2
    assert q.options["authorizedScopes"] == ["a"]
    creds = q.options["credentials"]
    assert creds["clientId"] == "c" and __import__("json").loads(creds["certificate"]) == cert
    # the credentials dict round-trips into a new client, as lesson 6 does with claimWork's
    assert Queue({"rootUrl": q.options["rootUrl"], "credentials": creds}).options.credentials \
        == q.options.credentials
    assert Queue(rootUrl="http://x").options.get("authorizedScopes") is None
    with pytest.raises(KeyError):
        q.options["nope"]


def test_access_token_never_shows_in_reprs():
    q = Queue({"rootUrl": "http://x", "credentials": {"clientId": "c", "accessToken": "SECRET"}})
    assert "SECRET" not in repr(q) and "SECRET" not in repr(q.options)
    assert "c" in repr(q.options.credentials)
