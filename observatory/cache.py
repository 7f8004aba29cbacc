"""One bounded cache of what was read from a store: least recently used entries go first, bounded in bytes.

Every store-dependent result (dimensions, frames of observations, labels, peer groups, the outlook's inputs…)
lives in the one `ByteCache` of its `store.Store`, keyed by the store's state (file generation and version), the
function and its arguments: a load makes new keys, and the old entries are dropped. The bound is in bytes, not in
entries: 2,048 frames of a few rows and 2,048 frames of a million rows are not the same memory. A value bigger
than a share of the budget is not kept (it would flush everything the small queries need): it is computed each
time it is asked for. Sizes are estimates (`size_of`): a frame's `memory_usage(deep=True)`, a byte string's
length, containers by sampling their items.
"""
from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np
import pandas as pd

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024  # per worker; the entry point may choose another (`Store(cache_bytes=…)`)
LARGEST_SHARE = 0.25  # a value above this share of the budget is never kept
_SAMPLE = 64  # items measured in a large container (its size is their mean × its length)
_FRAME_SAMPLE = 2_000  # rows measured in a large frame, evenly spread
MISSING = object()  # `get`'s default when None may be a cached value (`store.Store.cached`)


def size_of(value: object, _depth: int = 0) -> int:
    """An estimate of the bytes `value` holds (frames deep, containers by sampling, objects by their fields)."""
    if isinstance(value, (pd.DataFrame, pd.Series)) and len(value) > 4 * _FRAME_SAMPLE:
        # A deep size reads every string: measured on evenly spread rows (a cache miss of a 300,000-row frame
        # paid 0.23 s for the exact size, 6 ms for this estimate, 2 % off).
        sample = value[::len(value) // _FRAME_SAMPLE]
        return int(_deep_bytes(sample) * len(value) / len(sample))
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Index)):
        return _deep_bytes(value)
    if isinstance(value, np.ndarray):
        if value.dtype == object and value.size:
            return value.nbytes + _sampled(value.ravel().tolist(), _depth)
        return int(value.nbytes)
    if isinstance(value, (str, bytes, bytearray, int, float, bool)) or value is None:
        return sys.getsizeof(value)
    if _depth > 4:
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + _sampled(list(value.items()), _depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + _sampled(list(value), _depth)
    if dataclasses.is_dataclass(value):
        return sys.getsizeof(value) + sum(size_of(getattr(value, f.name), _depth + 1)
                                          for f in dataclasses.fields(value))
    if hasattr(value, "__dict__"):
        return sys.getsizeof(value) + size_of(vars(value), _depth + 1)
    return sys.getsizeof(value)


def _deep_bytes(value: pd.DataFrame | pd.Series | pd.Index) -> int:
    usage = value.memory_usage(deep=True)
    return int(usage.sum() if isinstance(usage, pd.Series) else usage)


def _sampled(items: list, depth: int) -> int:
    """The summed size of the items, measured on at most `_SAMPLE` of them, spread over the list."""
    if not items:
        return 0
    step = max(1, len(items) // _SAMPLE)
    sample = items[::step][:_SAMPLE]
    measured = sum(size_of(item, depth + 1) for item in sample)
    return int(measured * len(items) / len(sample))


class ByteCache:
    """A least-recently-used map bounded by the estimated bytes of its values (thread-safe)."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES, largest_share: float = LARGEST_SHARE) -> None:
        self.budget = int(budget_bytes)
        self.largest = int(budget_bytes * largest_share)
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        """The estimated bytes held now (never above `budget`)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, default: object = None) -> object:
        with self._lock:
            entry = self._entries.get(key, MISSING)
            if entry is MISSING:
                return default
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: object) -> None:
        """Keep `value` (unless it alone passes `largest_share` of the budget), dropping the least recently
        used entries until the total fits."""
        size = size_of(value)
        if size > self.largest:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.budget and self._entries:
                _key, (_value, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
