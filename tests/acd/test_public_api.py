"""The ACD's public surface: what the adapter and the rest of Hotline import."""

from __future__ import annotations

import acd


def test_everything_in_all_is_importable_from_the_package():
    for name in acd.__all__:
        assert getattr(acd, name) is not None, name


def test_the_public_surface_is_the_one_documented():
    assert {"route", "expected_wait", "overflow", "check_queues", "queue_states"} <= set(
        acd.__all__
    )
    assert acd.__doc__ and "Automatic call distribution" in acd.__doc__
