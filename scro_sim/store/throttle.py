"""Sign-in throttling: growing delays and a temporary lock after repeated failures.

Failures are counted per account (``u:<username>``, known or not, so a lock says nothing about
whether an account exists) and per client address (``c:<address>``), in the database so every
app server sees the same counts.  An attempt is counted *before* its password is checked and
forgiven when it succeeds, so parallel guesses cannot slip past the count; an attempt made
while a key must wait is refused without checking the password at all.  This is OWASP's
authentication cheat sheet's advice (throttling, temporary lockout, logging failures).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from .records import User
from .tables import _ThrottleRow

__all__ = ["SignIn", "ThrottlePolicy", "client_address"]


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are tolerated, and for how long they are remembered.

    A key's ``n``-th failure makes the next attempt wait ``2 ** (n - free)`` seconds (capped at
    ``max_delay_s``) once ``n`` passes its free failures; at ``max`` failures it is locked for
    ``lock_s``.  Failures older than ``window_s``, and those before an expired lock, are forgotten.
    Client addresses get more room than accounts: a classroom shares one address behind its NAT.
    """

    free_failures: int = 2
    max_failures: int = 5
    client_free_failures: int = 10
    client_max_failures: int = 30
    lock_s: float = 15 * 60
    window_s: float = 15 * 60
    max_delay_s: float = 60

    def delay_s(self, failures: int, free: int) -> float:
        """Seconds the next attempt must wait after ``failures`` failures with ``free`` free ones."""
        return 0.0 if failures <= free else float(min(self.max_delay_s, 2 ** (failures - free)))

    def limits(self, key: str) -> tuple[int, int]:
        """(free failures, failures that lock) for an account key or a client key."""
        if key.startswith("c:"):
            return self.client_free_failures, self.client_max_failures
        return self.free_failures, self.max_failures


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt.

    ``status`` is ``ok`` (``user`` is set), ``wrong`` (unknown user or wrong password: the same
    answer for both), ``throttled`` (too many recent failures: try again in ``retry_after_s``
    seconds) or ``unavailable`` (the database could not be reached: try again later).
    """

    status: Literal["ok", "wrong", "throttled", "unavailable"]
    user: User | None = None
    retry_after_s: int = 0


def client_address(headers: Mapping[str, str] | None, peer: str | None, proxies: int = 0) -> str | None:
    """The client's address: the connection's peer, or, behind ``proxies`` trusted reverse proxies,
    the address the outermost of them saw (``X-Forwarded-For``, counted from the right).

    Entries a client wrote itself (left of those the proxies appended) are never trusted: a
    forged address could otherwise dodge its own throttle or lock out someone else's.  Returns
    a normalised IP address, or None when none can be known.
    """
    candidate = peer
    if proxies > 0 and headers:
        forwarded = next((v for k, v in headers.items() if k.lower() == "x-forwarded-for"), "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
    if not candidate:
        return None
    try:
        return str(ipaddress.ip_address(candidate.strip().strip("[]")))
    except ValueError:
        return None


def _expired(row: _ThrottleRow, now: datetime, policy: ThrottlePolicy) -> bool:
    """Whether a key's failures are forgotten: its lock is over, or its last failure left the window."""
    if row.locked_until is not None:
        return row.locked_until <= now
    return row.last_at <= now - timedelta(seconds=policy.window_s)


def _wait_s(row: _ThrottleRow | None, now: datetime) -> float:
    if row is None:
        return 0.0
    until = max((t for t in (row.locked_until, row.next_at) if t is not None), default=None)
    return 0.0 if until is None else max(0.0, (until - now).total_seconds())


def _count_failure(row: _ThrottleRow, now: datetime, policy: ThrottlePolicy) -> None:
    free, most = policy.limits(row.key)
    row.failures += 1
    row.last_at = now
    delay = policy.delay_s(row.failures, free)
    row.next_at = now + timedelta(seconds=delay) if delay else None
    if row.failures >= most:
        row.locked_until = now + timedelta(seconds=policy.lock_s)
