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
