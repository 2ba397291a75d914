"""The utility's own order of repairs, kept sorted as damage changes.

Crews without orders take the best open repair by the utility's ranking: what feeds a critical
facility first, then the most people brought back per expected repair hour, then the lowest
index.  An asset's place in that ranking depends only on the asset and its damage state, so
the damaged assets are kept in ranked order and a crew takes the first one open to it.  Every
crew looking for work reads the order, and a repair changes one asset's damage: the order is
brought up to date by the assets whose damage differs from the copy it was last sorted for
(whoever changed it), not sorted again.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import numpy as np

#: an asset's place in the order: (does not feed a critical facility, score is not NaN, -score, index)
_Key = tuple[bool, bool, float, int]


class RepairOrder:
    """The damaged assets of one run in the utility's order (best first)."""

    def __init__(self, damage: bytearray, feeds_critical: np.ndarray, people: np.ndarray,
                 mean_hours: tuple[np.ndarray, np.ndarray], state_hours: Callable[[int, int], float],
                 group_of: Sequence[str] = ()) -> None:
        self._damage = damage  # the run's damage codes, read, never written
        self._seen = bytearray(len(damage))  # the damage the order was last brought up to date with
        self._feeds = feeds_critical  # per asset, made once per city (read-only)
        self._people = people
        self._deg, self._fail = mean_hours  # per asset: mean repair hours when degraded, when failed
        self._state_hours = state_hours  # (asset, code 3..6) -> the HAZUS state's own mean hours
        self._general = False  # whether codes 3..6 have hours of their own (else a failed asset's)
        self._keys: list[_Key] = []
        self._list: list[int] = []  # the assets of _keys, in their order
        self._array: np.ndarray | None = None  # _list as an array, made on demand
        self._group_of = group_of  # per asset, the skill its repair needs: a crew with one skill reads its group
        self._groups: dict[str, tuple[list[_Key], list[int]]] = {}  # group -> its part of _keys and _list

    def _key(self, i: int, code: int) -> _Key:
        """Asset ``i``'s place in the order in damage state ``code``; what :meth:`_keys_of` makes for many."""
        if self._general and code > 2:
            mean = self._state_hours(i, code)
        else:
            mean = float(self._fail[i] if code >= 2 else self._deg[i])
        score = float(self._people[i]) / (0.1 if mean < 0.1 else mean)  # np.maximum(mean, 0.1): NaN stays NaN
        feeds = bool(self._feeds[i])
        if score != score:  # NaN: numpy's argmax, which chose before, took it as the best
            return (not feeds, False, 0.0, i)
        return (not feeds, True, -score, i)

    def _keys_of(self, cand: np.ndarray) -> list[_Key]:
        """The keys of the damaged assets ``cand`` at once (a hazard damages hundreds in one step)."""
        codes = np.frombuffer(self._damage, np.int8)[cand]
        mean = np.where(codes >= 2, self._fail[cand], self._deg[cand])
        if self._general:
            for k in np.flatnonzero(codes > 2).tolist():
                mean[k] = self._state_hours(int(cand[k]), int(codes[k]))
        score = self._people[cand] / np.maximum(mean, 0.1)
        nan = np.isnan(score)
        return list(zip((~self._feeds[cand]).tolist(), (~nan).tolist(), (-np.where(nan, 0.0, score)).tolist(),
                        cand.tolist(), strict=True))

    def in_order(self, general: bool) -> list[int]:
        """The damaged assets now, best first (a list the caller must not change).

        ``general``: whether the run's damage codes 3..6 are HAZUS states with hours of their own
        (it turns on when a hazard's curves first name one); every key is made again when it does.
        """
        dm = self._damage
        if general == self._general and dm == self._seen:
            return self._list
        seen = self._seen
        changed = np.flatnonzero(np.frombuffer(seen, np.int8) != np.frombuffer(dm, np.int8))
        self._array = None
        if general != self._general or len(changed) > 8:  # many at once: all keys again, sorted once
            self._general = general
            keys = self._keys_of(np.flatnonzero(np.frombuffer(dm, np.int8) != 0))
            keys.sort()
            self._keys = keys
            self._list = [k[3] for k in keys]
            self._groups.clear()  # made again when next asked for
        else:
            for i in changed.tolist():  # a repair or two: edit the order where they go
                self._move(i, seen[i], dm[i])
        self._seen = bytearray(dm)
        return self._list

    def note(self, i: int) -> None:
        """Asset ``i``'s damage has just changed (a repair finished): its place is brought up to date
        now, so the next look finds nothing else changed without comparing the whole damage array."""
        old, new = self._seen[i], self._damage[i]
        if old != new:
            self._move(i, old, new)
            self._seen[i] = new
            self._array = None

    def _move(self, i: int, old: int, new: int) -> None:
        """Take asset ``i`` out of the order at its place for damage ``old`` and put it back at its
        place for ``new`` (0: not damaged, not in the order); its group's order with it."""
        lists = [(self._keys, self._list)]
        group = self._groups.get(self._group_of[i]) if self._groups else None
        if group is not None:
            lists.append(group)
        old_key = self._key(i, old) if old else None
        new_key = self._key(i, new) if new else None
        for keys, order in lists:
            if old_key is not None:
                k = bisect.bisect_left(keys, old_key)
                del keys[k]
                del order[k]
            if new_key is not None:
                k = bisect.bisect_left(keys, new_key)
                keys.insert(k, new_key)
                order.insert(k, i)

    def in_group(self, general: bool, group: str) -> list[int]:
        """The damaged assets now whose group (``group_of``) is ``group``, best first: a crew with one
        skill reads these instead of walking past every repair it cannot do."""
        self.in_order(general)
        got = self._groups.get(group)
        if got is None:
            of = self._group_of
            keys = [k for k in self._keys if of[k[3]] == group]
            got = self._groups[group] = (keys, [k[3] for k in keys])
        return got[1]

    def assets(self, general: bool) -> np.ndarray:
        """:meth:`in_order` as an array (made when first asked for after a change)."""
        order = self.in_order(general)
        if self._array is None:
            self._array = np.array(order, np.int64)
        return self._array
