"""One game's flow for every front end: start, resume by replay, decide, advance, finish.

The app's play page and ``scro-sim play`` both drive a :class:`GameSession`; they keep only
rendering and input handling.  A game's state is its decision list, so the rules are:

- **Saved before applied.**  A decision is checked, then the new decision list is saved
  with a compare-and-set on the game's version, and only then applied to the live
  simulation.  A save that fails applies nothing; a save that lost its compare-and-set
  (another window or server decided first) reloads the game by replay.
- **Retries are safe.**  Saving exactly the list that is stored already is a no-op, so a
  click repeated after an outage (the first save may have committed) decides once.
- **One run per game.**  Finishing stores the run and finishes the game in one
  transaction; a second finisher gets the existing run.
- **Never stuck, never a traceback.**  Every step returns an :class:`Outcome`; unexpected
  errors are logged with their traceback here and reported as a kind the front end words
  in the learner's language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .assessment import record_run
from .city import City
from .engine import Simulation, replay
from .errors import ScroSimError, Words, WorkBudgetExceeded, say
from .gc_tuning import engine_gc
from .policy import Decision, Observation
from .scenario import Scenario
from .store import Game, GameConflict, Store
from .vocabulary import N_

log = logging.getLogger(__name__)

__all__ = ["OUTCOMES", "GameSession", "Outcome", "abandon_stored", "resume_point"]

#: What a step can come to, with the sentence the terminal shows (English here, the player's language
#: through the catalogues; the app words them itself).
OUTCOMES: dict[str, str] = {
    "ok": "",
    "refused": N_("This decision cannot be taken now."),
    "moved_on": N_("This game moved on in another window; it was reloaded."),
    "not_saved": N_("Your decision was not saved (the database did not answer); nothing was lost, try again."),
    "failed": N_("Something went wrong with this decision; it was not applied and the game can go on."),
    "halted": N_("The exercise had to stop and this game was closed."),
    "finished": "",
}


@dataclass(frozen=True)
class Outcome:
    """What a step came to: ``kind`` is a key of :data:`OUTCOMES`; ``problems`` why a decision was refused."""

    kind: str
    problems: list[str] = field(default_factory=list)
    detail: str = ""  # for logs and the terminal (never a traceback)

    @property
    def ok(self) -> bool:
        return self.kind in ("ok", "finished")

    def __str__(self) -> str:
        return "; ".join(self.problems) or OUTCOMES.get(self.kind, self.kind)

    def reasons(self, words: Words | None = None) -> list[str]:
        """Why the decision was refused, each reason in the language of ``words`` (English without)."""
        return [say(p, words) for p in self.problems]


def resume_point(decisions: list[dict[str, Any]]) -> int:
    """The decision point a game with these decisions waits at (0: the first)."""
    return max(int(d["point"]) for d in decisions) + 1 if decisions else 0


def abandon_stored(store: Store, game: Game, learner: str) -> Outcome:
    """Close a stored game in progress without replaying it (tidying the list of games).

    Only the learner's own game; a game that moved on meanwhile (decided in another window)
    is still closed as it is now; one finished meanwhile stays finished.
    """
    if game.learner != learner:
        return Outcome("refused", problems=["this game is not yours"])
    current: Game | None = game
    for _attempt in range(2):
        if current is None or current.status != "playing":
            return Outcome("finished" if current is not None and current.status == "finished" else "ok")
        try:
            store.save_game(current.id, learner, current.scenario_id, current.scenario_hash, current.seed,
                            list(current.decisions), status="abandoned", expected_version=current.version)
            return Outcome("ok")
        except GameConflict as exc:
            current = exc.game
        except Exception as exc:
            log.exception("abandoning game %s failed", game.id)
            return Outcome("not_saved", detail=f"{type(exc).__name__}: {exc}")
    return Outcome("moved_on")


class GameSession:
    """One learner's game: the live simulation, and (with a store) its saved decision list.

    Without a store (the terminal without a database) nothing is saved and the game is not
    scored on finishing; everything else is the same.
    """

    def __init__(self, scenario: Scenario, city: City, seed: int, sim: Simulation, obs: Observation, *,
                 store: Store | None = None, game_id: str | None = None, learner: str | None = None,
                 scenario_hash: str | None = None, lang: str = "en", version: int = 0,
                 cohort: str | None = None, practice: bool = False) -> None:
        self.scenario, self.city, self.seed = scenario, city, int(seed)
        self.sim, self.obs = sim, obs
        self.store, self.game_id, self.learner = store, game_id, learner
        self.scenario_hash = scenario_hash or scenario.source_sha256
        self.lang, self.version, self.cohort = lang, version, cohort
        #: a practice game: scored and debriefed like any other, stored with origin "practice", never graded
        self.practice = bool(practice)
        self.run_id: str | None = None
        self.card: Any = None  # the ScoreCard once finished (scored on the server)
        self.status = "playing"

    # -- start and resume

    @classmethod
    def start(cls, scenario: Scenario, city: City, seed: int, *, store: Store | None = None,
              game_id: str | None = None, learner: str | None = None, scenario_hash: str | None = None,
              lang: str = "en", cohort: str | None = None, practice: bool = False) -> GameSession:
        """A new game at its first decision point, saved (empty) when there is a store.

        ``practice``: a practice game, whose run is stored with origin ``practice`` and never graded.

        Raises :class:`~scro_sim.errors.ScroSimError` (a store that does not answer, a run
        over its work budget): nothing was started then.
        """
        with engine_gc():
            sim = Simulation(scenario, city, seed)
            obs = sim.advance()
        g = cls(scenario, city, seed, sim, obs, store=store, game_id=game_id, learner=learner,
                scenario_hash=scenario_hash, lang=lang, cohort=cohort, practice=practice)
        if store is not None:
            g._need_ids()
            saved = store.save_game(g.game_id, learner, scenario.id, g.scenario_hash, g.seed, [],  # type: ignore[arg-type]
                                    expected_version=0, practice=g.practice)
            g.version = saved.version
        return g

    @classmethod
    def resume(cls, scenario: Scenario, city: City, game: Game, *, store: Store | None = None,
               lang: str = "en", cohort: str | None = None) -> GameSession:
        """Rebuild a stored game by replaying its decisions up to the point where the learner stopped."""
        with engine_gc():
            sim, obs = replay(scenario, city, game.seed, list(game.decisions),
                              until_point=resume_point(game.decisions))
        g = cls(scenario, city, game.seed, sim, obs, store=store, game_id=game.id, learner=game.learner,
                scenario_hash=game.scenario_hash, lang=lang, version=game.version, cohort=cohort,
                practice=game.practice)
        g.status, g.run_id = game.status, game.run_id
        return g

    def reload(self) -> None:
        """Replay the game as the store has it now (after another window moved it on, or a failure)."""
        if self.store is None or self.game_id is None:
            raise ScroSimError("a game without a store cannot be reloaded", field="game_id")
        game = self.store.load_game(self.game_id)
        if game is None:
            raise ScroSimError(f"unknown game {self.game_id!r}", field="game_id")
        self._take(game)

    def _take(self, game: Game) -> None:
        fresh = GameSession.resume(self.scenario, self.city, game, store=self.store, lang=self.lang,
                                   cohort=self.cohort)
        self.sim, self.obs, self.version = fresh.sim, fresh.obs, fresh.version
        self.status, self.run_id = fresh.status, fresh.run_id

    def _need_ids(self) -> None:
        if not self.game_id or not self.learner:
            raise ScroSimError("a stored game needs a game id and a learner", field="game_id")

    # -- what the front ends read

    @property
    def decisions(self) -> list[dict[str, Any]]:
        return list(self.sim.decisions)

    @property
    def records(self) -> list[Any]:
        """The event log so far (what the order queue and the hospitals' history are read from)."""
        return self.sim.log.records

    @property
    def done(self) -> bool:
        return bool(self.obs.done or self.sim.done)

    @property
    def finished(self) -> bool:
        return self.run_id is not None or self.status == "finished"

    def check(self, decision: Decision) -> list[str]:
        """Problems that would stop ``decision`` now (empty: it can be taken); each says itself in the learner's
        language through :func:`scro_sim.errors.say`."""
        return self.sim.check(decision)

    # -- deciding

    def decide(self, decision: Decision) -> Outcome:
        """Check, save (compare-and-set), apply, then advance to the next point (and finish at the end)."""
        if self.finished or self.status != "playing":
            return Outcome("moved_on", detail="the game is over")
        if self.done:  # the end was reached but not scored (an outage): scoring is all that is left
            return self.finish()
        try:
            problems = self.sim.check(decision)
        except Exception as exc:  # a broken check must not break the page
            log.exception("checking a decision in game %s failed", self.game_id)
            return Outcome("failed", detail=f"{type(exc).__name__}: {exc}")
        if problems:
            return Outcome("refused", problems=list(problems))
        rec = {"point": self.sim.point, "time_h": round(self.sim.env.now, 9), **decision.to_dict()}
        before = self.decisions
        saved = self._save([*before, rec])
        if saved is not None:
            return saved
        try:
            self.sim.apply(decision)
            if self.sim.decisions[-1] != rec:  # the engine recorded it otherwise: the store must say the same
                raise ScroSimError("the decision was recorded differently from the one saved", field="decisions")
        except Exception as exc:
            log.exception("applying a decision in game %s failed", self.game_id)
            self._undo(before)
            return Outcome("failed", detail=f"{type(exc).__name__}: {exc}")
        return self.advance()

    def _save(self, decisions: list[dict[str, Any]], status: str = "playing") -> Outcome | None:
        """Save the decision list; None when saved, else what stopped it (nothing is applied then)."""
        if self.store is None:
            return None
        self._need_ids()
        try:
            game = self.store.save_game(self.game_id, self.learner, self.scenario.id, self.scenario_hash,  # type: ignore[arg-type]
                                        self.seed, decisions, status, expected_version=self.version)
        except GameConflict as exc:
            log.info("game %s moved on elsewhere: %s", self.game_id, exc)
            return self._moved_on(exc.game)
        except ScroSimError as exc:
            log.warning("game %s not saved: %s", self.game_id, exc)
            return Outcome("not_saved", detail=str(exc))
        except Exception as exc:
            log.exception("saving game %s failed", self.game_id)
            return Outcome("not_saved", detail=f"{type(exc).__name__}: {exc}")
        self.version = game.version
        return None

    def _moved_on(self, game: Game) -> Outcome:
        try:
            self._take(game)
        except Exception as exc:
            log.exception("reloading game %s failed", self.game_id)
            return Outcome("failed", detail=f"{type(exc).__name__}: {exc}")
        return Outcome("moved_on")

    def _undo(self, before: list[dict[str, Any]]) -> None:
        """Put the saved list back as it was and rebuild the simulation from it (after a failed apply)."""
        if self.store is not None and self._save(before) is not None:
            log.error("game %s: could not take back a decision that failed to apply", self.game_id)
        try:
            self.sim, self.obs = replay(self.scenario, self.city, self.seed, before,
                                        until_point=self.obs.point)
        except Exception:
            log.exception("rebuilding game %s failed", self.game_id)

    def advance(self) -> Outcome:
        """Run the clock to the next decision point; at the end, finish (score and store the run)."""
        try:
            with engine_gc():
                self.obs = self.sim.advance()
        except WorkBudgetExceeded as exc:
            return self.halt(exc)
        except Exception as exc:
            log.exception("advancing game %s failed", self.game_id)
            return Outcome("failed", detail=f"{type(exc).__name__}: {exc}")
        if self.obs.done:
            return self.finish()
        return Outcome("ok")

    def skip_to_end(self) -> Outcome:
        """Decide nothing more and run to the end (the terminal's ``quit``)."""
        while not self.done:
            out = self.advance()
            if not out.ok:
                return out
        return self.finish() if not self.finished else Outcome("finished")

    # -- the end

    def finish(self) -> Outcome:
        """Score the game on the server (re-simulated from its decisions) and store its one run.

        Without a store nothing is scored.  A game finished already in another window gets the
        run stored there.  A store that does not answer leaves the game to finish again.
        """
        if self.store is None:
            self.status = "finished"
            return Outcome("finished")
        self._need_ids()
        try:
            run_id, card = record_run(self.store, self.scenario, self.city, self.seed, self.decisions,
                                      learner=self.learner, cohort=self.cohort, source="play",  # type: ignore[arg-type]
                                      lang=self.lang, game_id=self.game_id,
                                      origin="practice" if self.practice else "played")
        except WorkBudgetExceeded as exc:
            return self.halt(exc)
        except GameConflict as exc:
            return self._moved_on(exc.game)
        except ScroSimError as exc:
            log.warning("game %s not scored: %s", self.game_id, exc)
            return Outcome("not_saved", detail=str(exc))
        except Exception as exc:
            log.exception("scoring game %s failed", self.game_id)
            return Outcome("failed", detail=f"{type(exc).__name__}: {exc}")
        self.run_id, self.card, self.status = run_id, card, "finished"
        return Outcome("finished")

    def halt(self, exc: WorkBudgetExceeded) -> Outcome:
        """The engine stopped a runaway run: close the game as abandoned (it cannot go on)."""
        log.warning("game %s stopped by its work budget: %s", self.game_id, exc)
        self.status = "abandoned"
        if self.store is not None and self.game_id and self.learner:
            try:
                self.store.save_game(self.game_id, self.learner, self.scenario.id, self.scenario_hash, self.seed,
                                     self.decisions, status="abandoned")
            except Exception:  # the learner is told anyway; the game stays resumable
                log.exception("closing game %s failed", self.game_id)
        return Outcome("halted", detail=str(exc))

    def abandon(self) -> Outcome:
        """The learner gives this game up."""
        if self.finished:
            return Outcome("finished")
        out = self._save(self.decisions, status="abandoned")
        if out is None:
            self.status = "abandoned"
            return Outcome("ok")
        return out
