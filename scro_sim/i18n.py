"""UI strings in the course's languages: gettext catalogs compiled from Babel .po files on first use.

The .po files in ``scro_sim/locales/<lang>/LC_MESSAGES/scro_sim.po`` are the source of
truth; they are compiled to .mo into a cache directory when the .mo is missing or older
than its .po, so neither a build step nor write access to the package is needed.  No
streamlit here: the app asks :func:`translator` for a ``_`` function per language.
"""

from __future__ import annotations

import gettext
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

__all__ = ["DEFAULT_LANGUAGE", "DOMAIN", "LANGUAGES", "LOCALE_DIR", "compile_catalogs", "normalize", "translator"]

DOMAIN = "scro_sim"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES: dict[str, str] = {"en": "English", "el": "Ελληνικά", "de": "Deutsch", "pt": "Português"}
DEFAULT_LANGUAGE = "en"
_LOCK = threading.Lock()


def normalize(lang: str | None) -> str:
    """A supported language code for ``lang`` (``de-AT`` -> ``de``), English otherwise."""
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def _cache_dir() -> Path:
    """Where compiled catalogs go: ``$SCRO_SIM_CACHE/locales`` or a per-user temp folder.

    One folder per copy of the catalogs (a hash of their path): two checkouts or installs on
    one machine must not read each other's compiled catalogs, which an mtime check alone allows
    (the other copy's newer .mo looks up to date).
    """
    base = os.environ.get("SCRO_SIM_CACHE")
    if base:
        return Path(base) / "locales"
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    copy = hashlib.sha256(str(LOCALE_DIR).encode("utf-8")).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"scro_sim-{uid}" / f"locales-{copy}"


def compile_catalogs(out_dir: Path | None = None) -> Path:
    """Compile every .po whose .mo is missing or older into ``out_dir``; return that directory."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    out = out_dir or _cache_dir()
    with _LOCK:
        for lang in LANGUAGES:
            po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
            if not po.is_file():
                continue
            mo = out / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as f:
                catalog = read_po(f, locale=lang, domain=DOMAIN)
            tmp = mo.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            with tmp.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            tmp.replace(mo)  # atomic: another process never reads half a catalog
    return out


@lru_cache(maxsize=16)
def _translations(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, localedir=str(compile_catalogs()), languages=[lang], fallback=True)


def translator(lang: str | None) -> Callable[[str], str]:
    """The ``_`` function for ``lang`` (unknown languages get English)."""
    return _translations(normalize(lang)).gettext
