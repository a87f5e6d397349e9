"""Profile codes in an About text, and the username a member types: whole words, never a crash."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.bio import CODE_ALPHABET, MAX_USERNAME_LENGTH, codes_in, generate_code, parse_username
from bot.errors import InvalidUsername
from tests.property.strategies import attempt, nasty_text, texts

CODE_SHAPE = re.compile(r"imgur-link-[A-Z0-9]{4}-[A-Z0-9]{4}")
codes = st.builds(
    lambda first, second: f"imgur-link-{first}-{second}",
    st.text(CODE_ALPHABET, min_size=4, max_size=4),
    st.text(CODE_ALPHABET, min_size=4, max_size=4),
)
# What may stand right next to a code and still leave it a whole word, and what may not.
separators = st.sampled_from([" ", "\n", "\t", ".", ",", ";", ":", "!", "?", "(", ")", "[", "]",
                              "\"", "'", "*", "/", "|", "<", ">", "\u00a0", "。", ""])  # fmt: skip
word_glue = st.sampled_from(["a", "Z", "0", "9", "_", "-", "é", "ß", "x-", "-1"])
bios = st.one_of(texts, nasty_text, st.none())


@given(bios)
def test_any_about_text_gives_a_list_of_code_shaped_words(bio: str | None) -> None:
    found = codes_in(bio)
    assert all(CODE_SHAPE.fullmatch(code) for code in found)


@given(codes, texts, texts, separators, separators, st.booleans())
def test_a_code_standing_as_a_word_is_found_in_any_case(
    code: str, before: str, after: str, left: str, right: str, lower: bool
) -> None:
    # Keep the surroundings from gluing onto the code themselves.
    assume(not re.search(r"[\w-]$", before + left, re.ASCII))
    assume(not re.match(r"[\w-]", right + after, re.ASCII))
    written = code.lower() if lower else code
    bio = f"{before}{left}{written}{right}{after}"
    assume(len(bio) <= 10_000)
    assert code in codes_in(bio)


@given(codes, word_glue, st.booleans(), texts)
def test_a_code_glued_to_a_word_is_not_a_code(
    code: str, glue: str, glue_before: bool, rest: str
) -> None:
    glued = f"{glue}{code}" if glue_before else f"{code}{glue}"
    assume(code not in rest)
    found = codes_in(f"{rest} {glued}")
    assert code not in found or not glue.isascii()


def test_generated_codes_are_found_and_unique_enough() -> None:
    made = {generate_code() for _ in range(200)}
    assert len(made) == 200
    for code in made:
        assert codes_in(f"About me: {code}.") == [code]


TYPED_HOSTS = [
    "imgur.com", "www.imgur.com", "m.imgur.com", "evil.example", "[::1", "imgur.com:99999",
    "imgur.com:abc", "[", "imgur.com@evil.example",
]  # fmt: skip
usernames_typed = st.one_of(
    texts,
    st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        st.sampled_from(["https://", "http://", "", "//", "ftp://"]),
        st.sampled_from(TYPED_HOSTS),
        st.one_of(st.just("/user/alice"), st.text(max_size=30).map("/user/".__add__), texts),
    ),
    st.text("abcXYZ019_.-@/", max_size=70),
)


@given(usernames_typed)
def test_a_typed_username_is_a_valid_name_or_a_clear_refusal(text: str) -> None:
    outcome = attempt(lambda: parse_username(text), InvalidUsername)
    if isinstance(outcome, Exception):  # an InvalidUsername: attempt lets nothing else by
        assert str(outcome)
        return
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", outcome)
    assert len(outcome) <= MAX_USERNAME_LENGTH
