"""ui/memo.py: the same object back for the same key, made once; bounded by entries and age."""
from ui.memo import Memo


def test_same_object_made_once():
    memo, calls = Memo(max_entries=4), []
    first = memo.get(("view", 1), lambda: calls.append(1) or {"rows": 3})
    again = memo.get(("view", 1), lambda: calls.append(1) or {"rows": 99})
    assert again is first and calls == [1] and (memo.hits, memo.misses) == (1, 1)


def test_oldest_unused_entry_goes_first():
    memo = Memo(max_entries=2)
    memo.get("a", lambda: "A")
    memo.get("b", lambda: "B")
    memo.get("a", lambda: "A2")  # a is used again: b is now the oldest
    memo.get("c", lambda: "C")
    assert len(memo) == 2
    assert memo.get("a", lambda: "new") == "A"
    assert memo.get("b", lambda: "B again") == "B again"


def test_entries_expire():
    memo = Memo(ttl=0)
    memo.get("k", lambda: 1)
    assert memo.get("k", lambda: 2) == 2


def test_a_pinned_object_lives_as_long_as_its_entry():
    import gc
    import weakref

    class Rules:
        pass

    memo, rules = Memo(max_entries=1), Rules()
    ref = weakref.ref(rules)
    memo.get(("t", id(rules)), lambda: "table", pin=rules)
    del rules
    gc.collect()
    assert ref() is not None  # its id cannot be taken by another object while the entry uses it
    memo.get("other", lambda: 0)  # the entry is evicted, and the pin with it
    gc.collect()
    assert ref() is None


def test_the_shared_evaluated_table_is_never_handed_across_scopes(across_scopes):
    """ui.data.evaluated is shared by every session of a process: a township user asking for the county view that
    a city user has just opened must get OutsideScope, not the city user's memoised table (issue 15 × 17)."""
    import pytest

    from ui import data

    s = across_scopes
    s.as_user("city")
    assert len(data.evaluated(s.view, s.at, s.version)) > 1
    s.as_user("town")
    with pytest.raises(data.ScopeError):
        data.evaluated(s.view, s.at, s.version)


def test_expired_entries_are_dropped_when_something_new_is_made(monkeypatch):
    """Keys carry the as-of minute: an entry nobody can ask for again must not wait for max_entries to go."""
    from ui import memo as memo_module
    clock = [1000.0]
    monkeypatch.setattr(memo_module.time, "monotonic", lambda: clock[0])
    memo = Memo(max_entries=100, ttl=60)
    for minute in range(5):
        memo.get(("view", minute), lambda: "table")
        clock[0] += 30
    # made at 1000, 1030, 1060, 1090, 1120: each insert drops what is 60 s old or older, 1090 and 1120 are left
    assert len(memo) == 2
    clock[0] += 1000
    memo.get("new", lambda: 1)
    assert len(memo) == 1
