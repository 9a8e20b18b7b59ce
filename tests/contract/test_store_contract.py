"""The store contract: MemoryCollection and MongoDB/FerretDB behave the same for
every operation the repositories use."""

from __future__ import annotations

import pytest

from releasegate.shared.readmodels.filters import literal_regex
from releasegate.shared.store.base import Database, DuplicateKey, IndexSpec
from releasegate.shared.store.mongo import ID_BATCH

DOCS = [
    {
        "_id": "a",
        "n": 1,
        "name": "Daily_Orders",
        "tags": ["x", "y"],
        "sub": {"k": 1},
        "items": [{"id": 1, "ok": True}, {"id": 2, "ok": False}],
        "nums": [1, 5, 9],
    },
    {
        "_id": "b",
        "n": 2,
        "name": "weekly (orders)",
        "tags": ["y"],
        "sub": {"k": 2},
        "items": [{"id": 3, "ok": True}],
        "nums": [4, 6],
    },
    {"_id": "c", "n": 3, "name": "a.b*c orders", "sub": {"k": 2}, "items": []},
    {"_id": "d", "n": 4, "name": "other", "opt": None, "items": []},
]


async def _seed(database: Database, name: str = "things") -> object:
    coll = database.collection(name)
    for doc in DOCS:
        await coll.insert_one(doc)
    return coll


async def test_insert_and_find_by_id_and_duplicate_id(database: Database) -> None:
    coll = database.collection("c1")
    await coll.insert_one({"_id": "x", "v": 1})
    assert await coll.find_one({"_id": "x"}) == {"_id": "x", "v": 1}
    with pytest.raises(DuplicateKey):
        await coll.insert_one({"_id": "x", "v": 2})
    assert (await coll.find_one({"_id": "x"}))["v"] == 1
    assert await coll.find_one({"_id": "missing"}) is None


async def test_unique_compound_index_first_writer_wins(database: Database) -> None:
    coll = database.collection("c2")
    await coll.ensure_indexes([IndexSpec((("a", 1), ("b", 1)), unique=True, name="ab")])
    await coll.ensure_indexes([IndexSpec((("a", 1), ("b", 1)), unique=True, name="ab")])
    await coll.insert_one({"_id": 1, "a": "p", "b": 1})
    await coll.insert_one({"_id": 2, "a": "p", "b": 2})
    with pytest.raises(DuplicateKey):
        await coll.insert_one({"_id": 3, "a": "p", "b": 1})
    with pytest.raises(DuplicateKey):
        await coll.update_one({"_id": 2}, {"$set": {"b": 1}})
    assert await coll.count({}) == 2


async def test_insert_many_is_unordered_and_may_ignore_duplicates(database: Database) -> None:
    coll = database.collection("c6")
    await coll.ensure_indexes([IndexSpec((("k", 1),), unique=True, name="k")])
    await coll.insert_one({"_id": 1, "k": "a"})
    inserted = await coll.insert_many(
        [{"_id": 1, "k": "x"}, {"_id": 2, "k": "b"}, {"_id": 3, "k": "a"}, {"_id": 4, "k": "d"}],
        ignore_duplicates=True,
    )
    assert inserted == [False, True, False, True]  # a duplicate _id, another unique key
    assert await coll.find({}, sort=[("_id", 1)]) == [
        {"_id": 1, "k": "a"},
        {"_id": 2, "k": "b"},
        {"_id": 4, "k": "d"},
    ]
    with pytest.raises(DuplicateKey):
        await coll.insert_many([{"_id": 2, "k": "z"}, {"_id": 5, "k": "e"}])
    assert [d["_id"] for d in await coll.find({}, sort=[("_id", 1)])] == [1, 2, 4, 5]
    assert await coll.insert_many([], ignore_duplicates=True) == []
    assert await coll.count({}) == 4


@pytest.mark.parametrize(
    ("filt", "expected"),
    [
        ({"n": {"$gte": 2, "$lte": 3}}, ["b", "c"]),
        ({"n": {"$gt": 1, "$lt": 4}}, ["b", "c"]),
        ({"_id": {"$in": ["a", "d", "zz"]}}, ["a", "d"]),
        ({"_id": {"$nin": ["a", "d"]}}, ["b", "c"]),
        ({"n": {"$ne": 2}}, ["a", "c", "d"]),
        ({"sub.k": 2}, ["b", "c"]),
        ({"tags": "y"}, ["a", "b"]),
        ({"tags": {"$exists": True}}, ["a", "b"]),
        ({"sub": {"$exists": False}}, ["d"]),
        ({"name": {"$regex": "ORDERS", "$options": "i"}}, ["a", "b", "c"]),
        ({"name": {"$regex": literal_regex("(orders)"), "$options": "i"}}, ["b"]),
        ({"name": {"$regex": literal_regex("a.b*c "), "$options": "i"}}, ["c"]),
        ({"nums": {"$gt": 8}}, ["a"]),
        ({"items.ok": True}, ["a", "b"]),
        ({"$or": [{"n": 1}, {"name": "other"}]}, ["a", "d"]),
        ({"n": {"$in": [1, 4]}, "sub.k": {"$exists": True}}, ["a"]),
        ({"n": 2, "_id": {"$in": ["a", "b", "zz"]}}, ["b"]),  # as BatchedLookups reads
    ],
)
async def test_query_operators(database: Database, filt: dict, expected: list[str]) -> None:
    coll = await _seed(database)
    found = await coll.find(filt, sort=[("_id", 1)])  # type: ignore[attr-defined]
    assert [d["_id"] for d in found] == expected
    assert await coll.count(filt) == len(expected)  # type: ignore[attr-defined]


async def test_sort_skip_limit_projection(database: Database) -> None:
    coll = await _seed(database)
    page = await coll.find(
        {},
        sort=[("n", -1)],
        skip=1,
        limit=2,  # type: ignore[attr-defined]
        projection={"n": 1},
    )
    assert page == [{"_id": "c", "n": 3}, {"_id": "b", "n": 2}]
    no_items = await coll.find({"_id": "a"}, projection={"items": 0, "tags": 0})  # type: ignore[attr-defined]
    assert "items" not in no_items[0] and no_items[0]["name"] == "Daily_Orders"
    by_two = await coll.find({}, sort=[("sub.k", -1), ("_id", 1)])  # type: ignore[attr-defined]
    assert [d["_id"] for d in by_two] == ["b", "c", "a", "d"]


async def test_ids_streams_every_id_past_one_batch(database: Database) -> None:
    coll = database.collection("c_ids")
    assert [i async for i in coll.ids()] == []
    # More than one server batch (ID_BATCH), so the cursor's later batches are read too.
    ids = [f"k{i:05d}" for i in range(ID_BATCH + 5)]
    await coll.insert_many([{"_id": i, "pad": "x" * 10} for i in ids])
    assert sorted([i async for i in coll.ids()]) == ids


async def test_update_operators_and_counts(database: Database) -> None:
    coll = database.collection("c3")
    await coll.insert_one({"_id": 1, "n": 1, "arr": [], "m": {"x": 1}})
    res = await coll.update_one(
        {"_id": 1}, {"$set": {"m.y": 2, "s": "v"}, "$inc": {"n": 2}, "$push": {"arr": "a"}}
    )
    assert (res.matched, res.modified) == (1, 1)
    await coll.update_one({"_id": 1}, {"$addToSet": {"arr": "a"}, "$unset": {"m.x": ""}})
    await coll.update_one({"_id": 1}, {"$addToSet": {"arr": "b"}})
    doc = await coll.find_one({"_id": 1})
    assert doc == {"_id": 1, "n": 3, "arr": ["a", "b"], "m": {"y": 2}, "s": "v"}
    same = await coll.update_one({"_id": 1}, {"$set": {"s": "v"}})
    assert (same.matched, same.modified) == (1, 0)
    none = await coll.update_one({"_id": 2}, {"$set": {"s": "v"}})
    assert (none.matched, none.modified, none.upserted_id) == (0, 0, None)


async def test_upsert_and_conditional_update(database: Database) -> None:
    coll = database.collection("c4")
    res = await coll.update_one(
        {"_id": "k", "state": "open"},
        {"$set": {"v": 1}, "$setOnInsert": {"created": 5}},
        upsert=True,
    )
    assert res.upserted_id == "k"
    assert await coll.find_one({"_id": "k"}) == {"_id": "k", "state": "open", "v": 1, "created": 5}
    await coll.update_one(
        {"_id": "k"}, {"$set": {"v": 2}, "$setOnInsert": {"created": 9}}, upsert=True
    )
    assert await coll.find_one({"_id": "k"}) == {"_id": "k", "state": "open", "v": 2, "created": 5}
    miss = await coll.update_one({"_id": "k", "state": "closed"}, {"$set": {"v": 3}})
    assert miss.matched == 0


async def test_an_upsert_whose_condition_fails_collides_on_id(database: Database) -> None:
    """How a newer document is kept: the update of an older one matches nothing and
    its upsert is a duplicate _id."""
    coll = database.collection("c4b")
    older = {"_id": "k", "rank": {"$lt": 2}}
    await coll.update_one(older, {"$set": {"rank": 2, "v": "new"}}, upsert=True)
    with pytest.raises(DuplicateKey):
        await coll.update_one(older, {"$set": {"rank": 2, "v": "again"}}, upsert=True)
    with pytest.raises(DuplicateKey):
        await coll.update_one(older, {"$set": {"rank": 1, "v": "old"}}, upsert=True)
    newer = {"_id": "k", "rank": {"$lt": 3}}
    await coll.update_one(newer, {"$set": {"rank": 3, "v": "newest"}}, upsert=True)
    assert await coll.find_one({"_id": "k"}) == {"_id": "k", "rank": 3, "v": "newest"}


async def test_a_write_on_condition_of_a_version_or_of_absence(database: Database) -> None:
    """The catalog target's conditional writes: at a version (not deleted), or, for an
    item not in production, over no document or a deleted one (else a collision)."""
    coll = database.collection("c4c")
    absent = {"_id": "k", "deleted": {"$ne": False}}
    await coll.update_one(absent, {"$set": {"version": 1, "deleted": False}}, upsert=True)
    assert await coll.find_one({"_id": "k"}) == {"_id": "k", "version": 1, "deleted": False}
    with pytest.raises(DuplicateKey):
        await coll.update_one(absent, {"$set": {"version": 2, "deleted": False}}, upsert=True)
    at = {"_id": "k", "deleted": False}
    assert (await coll.update_one({**at, "version": 2}, {"$set": {"version": 3}})).matched == 0
    assert (await coll.update_one({**at, "version": 1}, {"$set": {"version": 2}})).matched == 1
    await coll.update_one({"_id": "k"}, {"$set": {"deleted": True}})
    assert (await coll.update_one({**at, "version": 2}, {"$set": {"version": 3}})).matched == 0
    await coll.update_one(absent, {"$set": {"version": 5, "deleted": False}}, upsert=True)
    assert await coll.find_one({"_id": "k"}) == {"_id": "k", "version": 5, "deleted": False}


async def test_find_one_and_update_returns_the_document_as_updated(database: Database) -> None:
    coll = database.collection("c11")
    await coll.insert_one({"_id": "a", "n": 1, "keep": "x"})
    after = await coll.find_one_and_update({"_id": "a"}, {"$set": {"n": 2}, "$push": {"h": 1}})
    assert after == {"_id": "a", "n": 2, "keep": "x", "h": [1]}
    assert await coll.find_one({"_id": "a"}) == after
    assert await coll.find_one_and_update({"_id": "zz"}, {"$set": {"n": 3}}) is None
    assert await coll.count({}) == 1  # no upsert


async def test_update_many_delete(database: Database) -> None:
    coll = await _seed(database, "c5")
    assert await coll.update_many({"sub.k": 2}, {"$set": {"flag": 1}}) == 2  # type: ignore[attr-defined]
    assert await coll.count({"flag": 1}) == 2  # type: ignore[attr-defined]
    assert await coll.delete_one({"_id": "a"}) == 1  # type: ignore[attr-defined]
    assert await coll.delete_one({"_id": "a"}) == 0  # type: ignore[attr-defined]
    assert await coll.delete_many({"n": {"$gte": 3}}) == 2  # type: ignore[attr-defined]
    assert [d["_id"] for d in await coll.find({})] == ["b"]  # type: ignore[attr-defined]
