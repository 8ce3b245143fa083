"""Routing keys, messages and the in-process bus."""

from __future__ import annotations

import threading

import pytest

from tutorial_kit.mock.model.events import (Bus, Message, full_exchange, group_message,
                                            group_routing_key, route_ccs, task_message,
                                            task_routing_key)

STATUS = {"taskId": "T1aaaaaaQaaaaaaaaaaaaA", "provisionerId": "prov", "workerType": "wt",
          "schedulerId": "-", "taskGroupId": "G1aaaaaaQaaaaaaaaaaaaA"}


def test_task_routing_key_has_ten_words_with_underscores():
    key = task_routing_key(STATUS)
    assert key == "primary.T1aaaaaaQaaaaaaaaaaaaA._._._.prov.wt.-.G1aaaaaaQaaaaaaaaaaaaA._"
    assert len(key.split(".")) == 10


def test_task_routing_key_with_run_and_worker():
    key = task_routing_key(STATUS, runId=0, workerGroup="wg", workerId="w1")
    assert key.split(".")[2:5] == ["0", "wg", "w1"]


def test_group_routing_key_has_four_words():
    assert group_routing_key("G1", "-") == "primary.G1.-._"


def test_route_ccs():
    assert route_ccs(["index.a.b", "notify"]) == ["route.index.a.b", "route.notify"]


def test_task_message_payload_key_and_ccs():
    msg = task_message("task-exception", STATUS, {"routes": ["r"], "tags": {"k": "v"}},
                       runId=0, extra={"x": 1})
    assert msg.exchange == "exchange/taskcluster-queue/v1/task-exception"
    assert msg.routing_key == task_routing_key(STATUS, runId=0)
    assert msg.cc == ["route.r"]
    assert msg.payload == {"version": 1, "status": STATUS, "runId": 0, "x": 1,
                           "task": {"tags": {"k": "v"}}}
    # artifact-created carries no task tags; worker words only when given
    msg = task_message("artifact-created", STATUS, {}, runId=1, workerGroup="wg",
                       workerId="w")
    assert "task" not in msg.payload and msg.cc == []
    assert (msg.payload["workerGroup"], msg.payload["workerId"]) == ("wg", "w")


def test_group_message_has_group_key_and_no_ccs():
    msg = group_message("task-group-resolved", "G1", "-", {"taskGroupId": "G1"})
    assert msg.routing_key == "primary.G1.-._" and msg.cc == []
    assert msg.payload == {"version": 1, "taskGroupId": "G1"}


def test_full_exchange_names():
    assert full_exchange("task-pending") == "exchange/taskcluster-queue/v1/task-pending"
    assert full_exchange("exchange/taskcluster-queue/v1/task-pending").endswith("task-pending")
    with pytest.raises(ValueError):
        full_exchange("task-exploded")


def msg(i: int) -> Message:
    return Message(full_exchange("task-pending"), f"k{i}", {"i": i})


def test_publish_assigns_seq_and_history_since():
    bus = Bus()
    bus.publish([msg(1), msg(2)])
    bus.publish(msg(3))
    assert [m.seq for m in bus.history()] == [1, 2, 3]
    assert [m.payload["i"] for m in bus.history(since_seq=1)] == [2, 3]
    assert bus.last_seq == 3
    assert msg(0).name == "task-pending"


def test_history_is_bounded():
    bus = Bus(maxlen=5)
    bus.publish([msg(i) for i in range(12)])
    assert [m.payload["i"] for m in bus.history()] == [7, 8, 9, 10, 11]


def test_subscribe_and_unsubscribe_and_faulty_subscriber():
    bus = Bus()
    got = []
    bus.subscribe(lambda m: 1 / 0)
    unsubscribe = bus.subscribe(lambda m: got.append(m.payload["i"]))
    bus.publish([msg(1), msg(2)])
    unsubscribe()
    bus.publish(msg(3))
    assert got == [1, 2]


def test_wait_returns_new_messages_or_times_out():
    bus = Bus()
    assert bus.wait(0, timeout=0.01) == []
    timer = threading.Timer(0.05, lambda: bus.publish(msg(1)))
    timer.start()
    try:
        got = bus.wait(0, timeout=5)
    finally:
        timer.cancel()
    assert [m.payload["i"] for m in got] == [1]


def test_clear_keeps_sequence_growing():
    bus = Bus()
    bus.publish(msg(1))
    bus.clear()
    assert bus.history() == []
    bus.publish(msg(2))
    assert bus.history()[0].seq == 2


def test_to_json():
    m = Message(full_exchange("task-pending"), "k", {"a": 1}, ["route.x"], seq=4)
    assert m.to_json() == {"seq": 4, "exchange": full_exchange("task-pending"),
                           "routingKey": "k", "cc": ["route.x"], "payload": {"a": 1}}
