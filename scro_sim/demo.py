"""Demo accounts and cohort for a first look at the app (named in the README), in a demo database only.

The demo passwords are public, so they go only into a database made for the demo: one that
``seed_demo`` finds new (no users, cohorts or runs) or already marked as a demo database, which
it then marks (a ``settings`` row).  A database with real accounts, or one that was not made
for the demo, is refused.  Idempotent: running it twice changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .errors import StoreError
from .store import DEFAULT_URL, Store

__all__ = ["DEMO_COHORT", "DEMO_ENV", "DEMO_USERS", "demo_wanted", "seed_demo"]

DEMO_COHORT = "demo-cohort"
#: set to 1 to seed the demo accounts into the database ``SCRO_SIM_DB`` names (``make run``, the app)
DEMO_ENV = "SCRO_SIM_DEMO"
#: (username, password, role, display name, language)
DEMO_USERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("learner", "learner-demo", "learner", "Lea Learner", "en"),
    ("learner2", "learner-demo", "learner", "Nikos Learner", "el"),
    ("lecturer", "lecturer-demo", "lecturer", "Lena Lecturer", "de"),
    ("assessor", "assessor-demo", "assessor", "Ana Assessor", "pt"),
)


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def demo_wanted(env: Mapping[str, str] | None = None, db: str | None = None) -> tuple[bool, str]:
    """Whether ``make run`` should seed the demo accounts, and why (one line for the user).

    Only into the default local SQLite database, or wherever ``SCRO_SIM_DEMO=1`` says so; never
    into a database named by ``SCRO_SIM_DB`` or ``--db`` otherwise.
    """
    env = os.environ if env is None else env
    named = db or env.get("SCRO_SIM_DB") or ""
    if _flag(env, DEMO_ENV):
        return True, f"{DEMO_ENV}=1: demo accounts requested"
    if named and named not in (DEFAULT_URL, DEFAULT_URL[len("sqlite:///"):]):
        return False, (f"no demo accounts: the database is named by {'--db' if db else 'SCRO_SIM_DB'} "
                       f"(set {DEMO_ENV}=1 if it is a demo database)")
    return True, "the default local demo database"


def _is_demo_only(store: Store) -> bool:
    """True when the database is new (nothing in it) or holds only the demo accounts with their demo
    passwords and nothing else of note (a demo database made before the demo mark existed)."""
    users = store.list_users()
    demo = {name: password for name, password, *_ in DEMO_USERS}
    if any(u.username not in demo for u in users):
        return False
    if not users:
        return not store.list_cohorts() and not store.list_runs(limit=1)
    return all(store.authenticate(u.username, demo[u.username]) is not None for u in users)


def seed_demo(store: Store) -> list[str]:
    """Create the demo users and cohort if missing; return what was done, one line each.

    Raises StoreError for a database that was not made for the demo or has real accounts.
    """
    if not store.is_demo_database():
        if not _is_demo_only(store):
            raise StoreError(
                f"refusing to add the public demo accounts to {store.url.render_as_string(hide_password=True)}: "
                "it was not made by `scro-sim demo` and holds real data. Use a new database for the demo "
                "(e.g. --db sqlite:///var/demo.sqlite); make a real deployment's first account with "
                "`scro-sim user add NAME --role lecturer`",
                field="database",
            )
        store.mark_demo_database()
    done: list[str] = []
    if DEMO_COHORT not in {c.name for c in store.list_cohorts()}:
        store.add_cohort(DEMO_COHORT, "Demo cohort")
        done.append(f"cohort {DEMO_COHORT}")
    members = {u.username for u in store.members(DEMO_COHORT)}
    for username, password, role, name, lang in DEMO_USERS:
        if store.get_user(username) is None:
            store.add_user(username, password, role, display_name=name, language=lang, demo_account=True)
            done.append(f"{role} {username} / {password}")
        if username not in members:
            store.add_member(DEMO_COHORT, username)
    return done or ["demo accounts already present"]
