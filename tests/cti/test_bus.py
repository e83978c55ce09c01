"""The event bus delivers in order, isolates slow and failing subscribers."""

import asyncio

from cti.bus import EventBus


async def test_subscribers_get_their_topics_in_order():
    bus = EventBus()
    got: list[tuple[str, int]] = []
    bus.subscribe("t", ["ami.*", "call.ended"], lambda topic, p: got.append((topic, p)))
    for i, topic in enumerate(["ami.Newchannel", "call.started", "call.ended", "ami.Hangup"]):
        bus.publish(topic, i)
    await bus.drain()
    assert got == [("ami.Newchannel", 0), ("call.ended", 2), ("ami.Hangup", 3)]
    await bus.close()


async def test_a_slow_subscriber_does_not_hold_up_the_others():
    bus = EventBus()
    release = asyncio.Event()
    fast: list[int] = []

    async def slow(_topic, _payload):
        await release.wait()

    bus.subscribe("slow", ["x"], slow)
    bus.subscribe("fast", ["x"], lambda _t, p: fast.append(p))
    for i in range(100):
        bus.publish("x", i)
    while len(fast) < 100:
        await asyncio.sleep(0)
    assert fast == list(range(100))
    release.set()
    await bus.drain()
    await bus.close()


async def test_a_failing_subscriber_keeps_receiving():
    bus = EventBus()
    seen: list[int] = []

    def flaky(_topic, payload):
        seen.append(payload)
        if payload == 1:
            raise RuntimeError("boom")

    sub = bus.subscribe("flaky", ["x"], flaky)
    for i in range(3):
        bus.publish("x", i)
    await bus.drain()
    assert seen == [0, 1, 2] and sub.failures == 1
    await bus.close()


async def test_has_subscribers_follows_subscriptions_and_prefixes():
    bus = EventBus()
    assert not bus.has_subscribers("ami.Newchannel")
    exact = bus.subscribe("exact", ["ami.Newchannel"], lambda topic, payload: None)
    assert bus.has_subscribers("ami.Newchannel")
    assert not bus.has_subscribers("ami.VarSet")
    prefix = bus.subscribe("all", ["ami.*"], lambda topic, payload: None)
    assert bus.has_subscribers("ami.VarSet")
    await bus.unsubscribe(prefix)
    assert not bus.has_subscribers("ami.VarSet")
    await bus.unsubscribe(exact)
    assert not bus.has_subscribers("ami.Newchannel")
    await bus.close()
