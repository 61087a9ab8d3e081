"""The name index finds a search text in its stored text, without decoding every name:
it must find exactly what looking in each decoded name would find, whatever the names hold
(quotes, backslashes, newlines and other escaped characters, letters whose casefold is longer)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vault.name_index import TAG_LENGTH, _lines, _Opened

# Few letters, so that terms often match; each of them is a case the matching must get right.
LETTERS = 'ab",\\\n ßﬁΣς[]\x01xu0'


def opened(names: list[str]) -> _Opened:
    count = len(names)
    return _Opened(ids=b"\0" * 16 * count, tags=b"\1" * TAG_LENGTH * count, lines=_lines(names))


@given(
    names=st.lists(st.text(alphabet=LETTERS, max_size=6), max_size=8),
    term=st.text(alphabet=LETTERS, min_size=1, max_size=3),
)
def test_found_in_the_text_as_in_each_name(names, term):
    term = term.casefold()
    expected = [(i, name) for i, name in enumerate(names) if term in name.casefold()]
    assert opened(names).hits(term) == expected


def test_examples():
    names = ["Bench item 00420", 'say "hi",', "back\\slash", "new\nline", "Straße", "plain"]
    index = opened(names)
    assert index.hits("item") == [(0, "Bench item 00420")]
    assert index.hits("strasse") == [(4, "Straße")]
    assert index.hits('"hi",') == [(1, 'say "hi",')]
    assert index.hits("n") == [(0, "Bench item 00420"), (3, "new\nline"), (5, "plain")]
    assert index.names == names


def test_a_text_most_names_contain_decodes_them_all_and_finds_the_same():
    names = [f"item {n}" for n in range(500)] + ['odd "item"']
    assert opened(names).hits("item") == list(enumerate(names))
