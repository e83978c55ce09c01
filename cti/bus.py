"""The in-process event bus.

Publishers never wait and never run subscriber code: each subscription owns a queue and
a worker task, so one slow subscriber (a database write, a browser socket) cannot stall
the AMI reader or the other subscribers. Nothing is dropped; a subscriber falling behind
is visible in :attr:`Subscription.backlog` and logged once past a threshold.

Topics are dotted strings (``ami.Newchannel``, ``call.updated``); a subscription takes
exact topics and/or prefixes ending in ``.*``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[str, Any], Awaitable[None] | None]

#: Past this many queued events a subscriber is reported as lagging (once per episode).
LAG_WARNING = 10_000


@dataclass(eq=False)
class Subscription:
    """One subscriber's queue and worker. Close it to stop delivery."""

    name: str
    handler: Handler
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    queue: asyncio.Queue[tuple[str, Any]]
    task: asyncio.Task[None] | None = None
    delivered: int = 0
    failures: int = 0
    _lagging: bool = False

    @property
    def backlog(self) -> int:
        return self.queue.qsize()

    def matches(self, topic: str) -> bool:
        return topic in self.exact or topic.startswith(self.prefixes)


class EventBus:
    """Fan-out of ``(topic, payload)`` to subscribers, each in its own task."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        # topic -> subscriptions; rebuilt on (un)subscribe, so publish is a dict lookup.
        self._routes: dict[str, tuple[Subscription, ...]] = {}
        self.published = 0

    def subscribe(self, name: str, topics: Iterable[str], handler: Handler) -> Subscription:
        """Deliver the given topics (``x.*`` for a prefix) to ``handler``, in order."""
        topics = list(topics)
        if not topics:
            raise ValueError(f"subscription {name!r} names no topics")
        sub = Subscription(
            name=name,
            handler=handler,
            exact=frozenset(t for t in topics if not t.endswith(".*")),
            prefixes=tuple(t[:-1] for t in topics if t.endswith(".*")),
            queue=asyncio.Queue(),
        )
        sub.task = asyncio.get_running_loop().create_task(
            self._run(sub), name=f"bus-subscriber-{name}"
        )
        self._subscriptions.append(sub)
        self._routes.clear()
        return sub

    async def unsubscribe(self, sub: Subscription, *, drain: bool = True) -> None:
        """Stop a subscription; with ``drain`` it first handles what is already queued."""
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)
            self._routes.clear()
        if drain:
            await sub.queue.join()
        if sub.task is not None:
            sub.task.cancel()
            try:
                await sub.task
            except asyncio.CancelledError:
                pass

    def _subscribers(self, topic: str) -> tuple[Subscription, ...]:
        subs = self._routes.get(topic)
        if subs is None:
            subs = tuple(s for s in self._subscriptions if s.matches(topic))
            self._routes[topic] = subs
        return subs

    def has_subscribers(self, topic: str) -> bool:
        """Whether anything published under ``topic`` now would reach a subscriber."""
        return bool(self._subscribers(topic))

    def publish(self, topic: str, payload: Any) -> None:
        """Queue ``payload`` for every subscriber of ``topic``. Never blocks."""
        self.published += 1
        for sub in self._subscribers(topic):
            sub.queue.put_nowait((topic, payload))
            if not sub._lagging and sub.queue.qsize() > LAG_WARNING:
                sub._lagging = True
                log.warning("bus subscriber %s is lagging: %d events queued", sub.name, LAG_WARNING)

    async def drain(self) -> None:
        """Wait until every subscriber has handled everything published so far."""
        for sub in list(self._subscriptions):
            await sub.queue.join()

    async def close(self) -> None:
        for sub in list(self._subscriptions):
            await self.unsubscribe(sub, drain=False)

    async def _run(self, sub: Subscription) -> None:
        queue = sub.queue
        while True:
            topic, payload = await queue.get()
            try:
                result = sub.handler(topic, payload)
                if result is not None:
                    await result
                sub.delivered += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                # A failing handler must not kill its subscription: log and go on.
                sub.failures += 1
                log.exception("bus subscriber %s failed on %s", sub.name, topic)
            finally:
                queue.task_done()
                if sub._lagging and queue.qsize() < LAG_WARNING // 2:
                    sub._lagging = False
