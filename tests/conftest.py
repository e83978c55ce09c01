"""Shared test setup: the real Asterisk (once per session) and the store on both engines."""

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.asterisk",
    "tests.fixtures.hotline",
    "tests.fixtures.browser",
]
