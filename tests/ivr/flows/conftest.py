"""Fixtures of the flow tests: the shipped flows, loaded once, and a scripted caller that
drives the pure engine. No Asterisk here — these are unit tests of pure logic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ivr.flows import (
    ActionResult,
    Alternative,
    CallerHangup,
    CallStarted,
    DtmfInput,
    Effect,
    Event,
    FlowEngine,
    FlowSet,
    Listen,
    NoInput,
    Play,
    RecordTurn,
    RunAction,
    SessionState,
    SpeechResult,
    Transfer,
    load_flows,
)

FLOWS_DIR = Path(__file__).resolve().parents[3] / "dialplans" / "ivr"
HOSPITAL = {"zh": "仁和医院", "en": "Renhe Hospital", "ko": "인화병원"}


@pytest.fixture(scope="session")
def flows() -> FlowSet:
    return load_flows(FLOWS_DIR)


@pytest.fixture(scope="session")
def engine(flows: FlowSet) -> FlowEngine:
    return FlowEngine(flows, default_language="zh")


class Caller:
    """A scripted caller: sends events, keeps every effect, and answers questions about
    the last turn."""

    def __init__(self, engine: FlowEngine) -> None:
        self.engine = engine
        self.state: SessionState = engine.new_session()
        self.effects: list[Effect] = []
        self.last: list[Effect] = []
        self.clock = 0.0

    def send(self, event: Event) -> list[Effect]:
        self.state, self.last = self.engine.next(self.state, event)
        self.effects += self.last
        return self.last

    def tick(self) -> float:
        self.clock += 1.5
        return self.clock

    def call(
        self,
        *,
        language: str | None = "zh",
        patient_id: str | None = None,
        patient_name: str | None = None,
        number: str | None = "+8613800138000",
    ) -> list[Effect]:
        return self.send(
            CallStarted(
                caller_number=number,
                patient_id=patient_id,
                patient_name=patient_name,
                language=language,
                hospital=HOSPITAL,
                at=self.tick(),
            )
        )

    def press(self, digits: str) -> list[Effect]:
        return self.send(DtmfInput(digits, at=self.tick()))

    def say(self, text: str, confidence: float = 0.9, *alternatives: tuple[str, float]):
        alts = tuple(Alternative(t, c) for t, c in alternatives)
        return self.send(SpeechResult(text, confidence, alts, at=self.tick()))

    def silence(self) -> list[Effect]:
        return self.send(NoInput(at=self.tick()))

    def result(self, name: str, outcome: str, **data: Any) -> list[Effect]:
        values = {k: str(v) for k, v in data.items()}
        return self.send(ActionResult(name, outcome, values, at=self.tick()))

    def hangup(self) -> list[Effect]:
        return self.send(CallerHangup(at=self.tick()))

    # what happened

    @property
    def step(self) -> str:
        return self.state.ref

    def said(self) -> str:
        return " ".join(e.text for e in self.last if isinstance(e, Play))

    def listen(self) -> Listen:
        found = [e for e in self.last if isinstance(e, Listen)]
        assert found, f"not listening at {self.step}: {self.last}"
        return found[-1]

    def action(self) -> RunAction:
        found = [e for e in self.last if isinstance(e, RunAction)]
        assert found, f"no action at {self.step}: {self.last}"
        return found[-1]

    def transfer(self) -> Transfer:
        found = [e for e in self.last if isinstance(e, Transfer)]
        assert found, f"no transfer at {self.step}: {self.last}"
        return found[-1]

    def actions(self, name: str | None = None) -> list[RunAction]:
        return [e for e in self.effects if isinstance(e, RunAction) and name in (None, e.name)]

    def turns(self) -> list[RecordTurn]:
        return [e for e in self.effects if isinstance(e, RecordTurn)]


@pytest.fixture
def caller(engine: FlowEngine) -> Caller:
    return Caller(engine)
