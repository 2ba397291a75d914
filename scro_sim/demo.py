"""Demo accounts and cohort for a first look at the app (named in the README).

Idempotent: running it twice changes nothing.  Never use these passwords on a real server.
"""

from __future__ import annotations

from .store import Store

__all__ = ["DEMO_COHORT", "DEMO_USERS", "seed_demo"]

DEMO_COHORT = "demo-cohort"
#: (username, password, role, display name, language)
DEMO_USERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("learner", "learner-demo", "learner", "Lea Learner", "en"),
    ("learner2", "learner-demo", "learner", "Nikos Learner", "el"),
    ("lecturer", "lecturer-demo", "lecturer", "Lena Lecturer", "de"),
    ("assessor", "assessor-demo", "assessor", "Ana Assessor", "pt"),
)


def seed_demo(store: Store) -> list[str]:
    """Create the demo users and cohort if missing; return what was done, one line each."""
    done: list[str] = []
    if DEMO_COHORT not in {c.name for c in store.list_cohorts()}:
        store.add_cohort(DEMO_COHORT, "Demo cohort")
        done.append(f"cohort {DEMO_COHORT}")
    members = {u.username for u in store.members(DEMO_COHORT)}
    for username, password, role, name, lang in DEMO_USERS:
        if store.get_user(username) is None:
            store.add_user(username, password, role, display_name=name, language=lang)
            done.append(f"{role} {username} / {password}")
        if username not in members:
            store.add_member(DEMO_COHORT, username)
    return done or ["demo accounts already present"]
