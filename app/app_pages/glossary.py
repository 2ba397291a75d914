"""Glossary page (every role): the exercises' words in plain language, searchable, in the reader's language."""

from __future__ import annotations

import streamlit as st

from app import state
from scro_sim.glossary import glossary, search

PAGE = "glossary"


def main() -> None:
    _ = state.gettext()
    lang = state.lang()
    st.title(_("Glossary"))
    st.caption(_("The words of the exercises, in plain language. The debrief and the messages use them."))
    query = st.text_input(_("Search the glossary"), key=state.wkey(PAGE, "q"))
    terms = search(query, lang) if query.strip() else glossary().in_order(lang)
    if not terms:
        st.info(_("No term matches."))
        return
    names = glossary().by_id()
    for t in terms:
        st.markdown(f"**{t.term[lang]}**")
        st.write(t.text[lang])
        if t.see_also:
            st.caption(_("See also: {terms}").format(terms=", ".join(names[r].term[lang] for r in t.see_also)))


if __name__ == "__main__":
    main()
