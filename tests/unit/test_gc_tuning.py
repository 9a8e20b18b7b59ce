"""A served process freezes what startup built and collects its youngest generation
less often (shared/gc_tuning.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from releasegate.shared.config import CommonSettings
from releasegate.shared.gc_tuning import tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_startup_objects_are_frozen_and_the_threshold_raised(restored_gc: None) -> None:
    built_at_startup = [{"n": i} for i in range(1000)]
    gen1, gen2 = gc.get_threshold()[1:]
    tune_gc(12_345)
    assert gc.get_threshold() == (12_345, gen1, gen2)
    assert gc.get_freeze_count() >= len(built_at_startup)


def test_the_threshold_is_a_setting_with_a_floor() -> None:
    assert CommonSettings(dev_mode=True).gc_gen0_threshold == 20_000
    assert CommonSettings(dev_mode=True, gc_gen0_threshold=700).gc_gen0_threshold == 700
    with pytest.raises(ValueError):
        CommonSettings(dev_mode=True, gc_gen0_threshold=0)
