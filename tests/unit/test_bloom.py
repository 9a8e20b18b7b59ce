"""The Bloom filter never forgets a string it was given, and at its capacity it says
"maybe" for about its error rate of the strings it was not."""

from __future__ import annotations

import pytest

from releasegate.shared.bloom import BloomFilter


def test_every_added_string_is_found() -> None:
    bloom = BloomFilter(1_000)
    keys = [f"p/w/job/{i}" for i in range(1_000)]
    for key in keys:
        bloom.add(key)
    assert all(key in bloom for key in keys)


def test_adding_says_whether_the_string_was_news() -> None:
    bloom = BloomFilter(1_000)
    assert bloom.add("p/w/job/1") is True
    assert bloom.add("p/w/job/1") is False  # already a "maybe"
    news = sum(bloom.add(f"p/w/job/{i}") for i in range(2, 500))
    assert news >= 490  # well under capacity: almost every new string sets a bit


def test_at_capacity_about_one_in_a_hundred_strangers_is_a_maybe() -> None:
    bloom = BloomFilter(10_000, error_rate=0.01)
    for i in range(10_000):
        bloom.add(f"p/w/job/{i}")
    strangers = sum(f"p/w/script/{i}" in bloom for i in range(20_000))
    assert strangers / 20_000 < 0.02  # 0.01 expected; room for chance
    assert bloom.size_bytes < 10_000 * 10 // 8 + 8  # ~9.6 bits per string at 1 %


def test_an_empty_filter_knows_nothing() -> None:
    assert "p/w/job/1" not in BloomFilter(100)


@pytest.mark.parametrize(("capacity", "rate"), [(0, 0.01), (10, 0.0), (10, 1.0)])
def test_a_filter_that_cannot_work_is_refused(capacity: int, rate: float) -> None:
    with pytest.raises(ValueError):
        BloomFilter(capacity, rate)
