"""The repository documents itself: no pointer leads outside it, and every document it names exists.

A person who clones the repository has none of the files of the machine it was written on,
so no tracked file may point at the ``shared`` folder beside the checkout or at an absolute
path under the machine's work, home, root or tmp folders (this file spells those pointers
in pieces so that it passes its own test); the design documents live in ``docs/`` and the
README names each of them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: top folders of a machine that no tracked file may point into
ROOTS = ("work", "home", "root", "tmp")
#: a pointer outside the repository: the sibling folder ``shared`` one level up, or an absolute
#: path under one of ``ROOTS``, not inside a longer word or a URL (a URL's path is not a path on
#: this machine)
_OUTSIDE = re.compile(r"\.\./shared\b|(?<![\w./~:-])/(?:" + "|".join(ROOTS) + r")(?:/|\b)")

#: the documents in docs/ the README must name
DOCS = ("docs/README.md", "docs/design.md", "docs/glossary.md", "docs/reference_data.md")

UP_SHARED = ".." + "/shared"
WORK, HOME, ROOT, TMP = ("/" + r for r in ROOTS)


def outside_pointers(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of each line of ``text`` that points outside the repository."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if _OUTSIDE.search(line)]


def _tracked_text_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    files = []
    for name in out.decode("utf-8").split("\0"):
        path = REPO / name
        if not name or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # binary (images, compiled catalogs)
            continue
        files.append(path)
    return files


@pytest.mark.parametrize("line", [
    f"see {UP_SHARED}/ARCHITECTURE.md",
    f"# figures from {WORK}/shared/REFERENCE_DATA.md",
    f"cd {HOME}/alice/scro_sim",
    f"written to {TMP}/run.jsonl",
    f"python at {ROOT}/.venv",
    f"`{WORK}`",
])
def test_a_pointer_outside_the_repository_is_found(line: str) -> None:
    assert outside_pointers(f"first line\n{line}\n") == [(2, line)]


@pytest.mark.parametrize("line", [
    "see docs/design.md and scenarios/README.md",
    f"https://crisis-scro.example{TMP}/x and http://host{HOME}/page",
    f"var{TMP}/cache is relative",
    f"~{WORK}/notes are the user's own",
    "a homework about rooted trees",
])
def test_paths_inside_the_repository_and_urls_are_not_pointers_outside(line: str) -> None:
    assert outside_pointers(line) == []


def test_no_tracked_file_points_outside_the_repository() -> None:
    found = []
    for path in _tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(REPO)}:{n}: {line}" for n, line in outside_pointers(text)]
    assert not found, "point at docs/ instead:\n" + "\n".join(found)


def test_the_readme_names_the_docs_and_each_named_doc_exists() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    index = (REPO / "docs" / "README.md").read_text(encoding="utf-8")
    for doc in DOCS:
        name = Path(doc).name
        named = doc in readme or (name != "README.md" and f"`{name}`" in readme)
        assert named, f"README.md does not name {doc}"
        assert (REPO / doc).is_file(), f"{doc} is named in README.md but missing"
        if doc != "docs/README.md":
            assert f"]({name})" in index, f"docs/README.md does not link {name}"
    for named in sorted(set(re.findall(r"`(docs/[\w./-]+)`", readme))):
        assert (REPO / named).exists(), f"README.md names {named}, which does not exist"


def test_every_relative_link_in_docs_resolves() -> None:
    broken = []
    for md in sorted((REPO / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", md.read_text(encoding="utf-8")):
            if "://" not in target and not (md.parent / target).exists():
                broken.append(f"{md.relative_to(REPO)} -> {target}")
    assert not broken, "broken links: " + ", ".join(broken)
