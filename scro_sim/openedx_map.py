"""The course mapping Open edX's bulk grade import needs: which Open edX ids scro_sim's names have.

Open edX's Gradebook *Bulk Management > Import grades* (``edx-bulk-grades``'s
``GradeCSVProcessor``) files a grade by the learner's numeric ``user_id``, the exact
``course_id`` and the graded subsection's block id, and reads earned points, not a fraction.
scro_sim knows none of these, so a lecturer writes them once in a small YAML file::

    course_id: course-v1:SCRO+CM+2026
    subsections:                      # scenario id: the graded subsection it fills
      riverton_flood:
        block_id: block-v1:SCRO+CM+2026+type@sequential+block@3f1c9a2be6d84c0f
        points: 10                    # the subsection's possible points
    roster: gradebook-export.csv      # optional: a CSV with username and user_id (or id) columns,
                                      #   e.g. the Gradebook's own bulk export (path relative to this file)
    users:                            # optional: username: user_id (wins over the roster)
      maria: 17

``$SCRO_SIM_OPENEDX_MAP`` names the file for the app's Review page (the CLI: ``--openedx-map``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .errors import InputError
from .yamlio import load_yaml, validate_model

__all__ = ["OPENEDX_MAP_ENV", "OpenedxMap", "load_openedx_map", "openedx_map_path"]

#: The environment variable naming the mapping file (the app's Review page reads it).
OPENEDX_MAP_ENV = "SCRO_SIM_OPENEDX_MAP"


class _Subsection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    block_id: str = Field(min_length=1)
    points: float = Field(gt=0, allow_inf_nan=False)

    @field_validator("block_id")
    @classmethod
    def _short_id(cls, value: str) -> str:
        if not value.rsplit("@", 1)[-1].strip():
            raise ValueError("the block id ends in '@': give the whole usage key or the bare block id")
        return value.strip()


class _MapFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course_id: str = Field(min_length=1, pattern=r"^(course-v1:[^+\s]+\+[^+\s]+\+[^+\s]+|[^/\s]+/[^/\s]+/[^/\s]+)$")
    subsections: dict[str, _Subsection] = Field(min_length=1)
    roster: str | None = None
    users: dict[str, int] = Field(default_factory=dict)


@dataclass(frozen=True)
class OpenedxMap:
    """What :func:`scro_sim.lms.openedx_bulk_csv` needs, read from a mapping file."""

    course_id: str
    block_ids: Mapping[str, str]
    points_possible: Mapping[str, float]
    user_ids: Mapping[str, int]

    def export_options(self) -> dict[str, object]:
        """Keyword arguments for :func:`scro_sim.lms.openedx_bulk_csv`."""
        return {"course_id": self.course_id, "block_ids": dict(self.block_ids),
                "points_possible": dict(self.points_possible), "user_ids": dict(self.user_ids)}


def _read_roster(path: Path, label: str) -> dict[str, int]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            id_column = "user_id" if "user_id" in fields else "id" if "id" in fields else None
            if "username" not in fields or id_column is None:
                raise InputError("a roster needs a 'username' column and a 'user_id' (or 'id') column",
                                 path=str(path), line=1)
            out: dict[str, int] = {}
            for line, row in enumerate(reader, start=2):
                value = (row.get(id_column) or "").strip()
                if not value.isdigit():
                    raise InputError(f"user id {value!r} is not a number", path=str(path), line=line,
                                     field=id_column)
                out[(row.get("username") or "").strip()] = int(value)
            return out
    except OSError as exc:
        raise InputError(f"cannot read the roster: {exc.strerror or exc}", path=label, field="roster") from None


def load_openedx_map(path: str | Path) -> OpenedxMap:
    """Read a mapping file (see the module's docstring); problems come back as ``file:line: field: message``."""
    loaded = load_yaml(Path(path))
    parsed: _MapFile = validate_model(_MapFile, loaded, InputError, "Open edX mapping", "course_id, subsections")
    users: dict[str, int] = {}
    if parsed.roster:
        users.update(_read_roster(Path(path).parent / parsed.roster,
                                  f"{loaded.path}:{loaded.line_of(('roster',)) or 1}"))
    users.update(parsed.users)
    return OpenedxMap(
        course_id=parsed.course_id,
        block_ids={sid: s.block_id for sid, s in parsed.subsections.items()},
        points_possible={sid: s.points for sid, s in parsed.subsections.items()},
        user_ids=users,
    )


def openedx_map_path(given: str | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The mapping file to use: ``given`` (``--openedx-map``), else ``$SCRO_SIM_OPENEDX_MAP``, else None."""
    env = os.environ if env is None else env
    value = given or env.get(OPENEDX_MAP_ENV, "").strip()
    return Path(value) if value else None
