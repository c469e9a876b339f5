"""Unit tests of the Telegram-HTML checker."""

from __future__ import annotations

import html

import pytest

from standin.html_check import EntityParseError, check_html, parse_html, utf16_len

PREFIX = "Bad Request: can't parse entities: "


@pytest.mark.parametrize(
    ("source", "plain"),
    [
        ("plain text", "plain text"),
        ("<b>bold</b> and <i>italic</i>", "bold and italic"),
        ("<B>caps</B>", "caps"),
        ("<strong><em><u><ins><s><strike><del>x</del></strike></s></ins></u></em></strong>", "x"),
        ('<span class="tg-spoiler">hidden</span> <tg-spoiler>too</tg-spoiler>', "hidden too"),
        ('<a href="https://example.org/?a=1&amp;b=2">link</a>', "link"),
        ("<a href=bare-token.org>bare</a>", "bare"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("<blockquote expandable>quote</blockquote>", "quote"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
        ("&lt;tag&gt; &amp; &quot;q&quot;", '<tag> & "q"'),
        ("&#65;&#x42;&#X43;&#128512;", "ABC😀"),
        ("a > b", "a > b"),
        ("<b>one</>", "one"),
        ("<b >spaced</b >", "spaced"),
    ],
)
def test_accepts_valid_html(source: str, plain: str) -> None:
    assert check_html(source) == plain


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("hello <br/>", 'Unsupported start tag "br/" at byte offset 6'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        (
            "<b><i>x</b></i>",
            'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
        ),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href>x</a>", 'Expected equal sign in declaration of an attribute of the tag "a"'),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<a href=https://x.org>x</a>", "Unexpected end of name token at byte offset 8"),
        ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified"),
        ("Tom & Jerry", "Character '&' is reserved"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ("&amp", "Character '&' is reserved"),
        ("&#0;", 'Unsupported HTML entity "&#0;"'),
        ("&#xD800;", 'Unsupported HTML entity "&#xD800;"'),
    ],
)
def test_rejects_invalid_html(source: str, detail: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        check_html(source)
    assert caught.value.description.startswith(PREFIX + detail)


def test_byte_offsets_count_utf8_bytes() -> None:
    with pytest.raises(EntityParseError, match="at byte offset 13"):
        check_html("привет <x>")  # six 2-byte letters and a space before the tag


def test_nested_entities_have_utf16_offsets() -> None:
    parsed = parse_html("😀 <b>bold <i>both</i></b> <a href='https://t.me'>l</a>")
    assert parsed.text == "😀 bold both l"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 1, "url": "https://t.me"},
    ]


def test_pre_takes_language_of_inner_code() -> None:
    parsed = parse_html('<pre><code class="language-sql">select 1</code></pre>')
    assert parsed.entities == [{"type": "pre", "offset": 0, "length": 8, "language": "sql"}]


def test_expandable_blockquote() -> None:
    parsed = parse_html("<blockquote expandable>q</blockquote>")
    assert parsed.entities == [{"type": "expandable_blockquote", "offset": 0, "length": 1}]


def test_escaped_user_text_always_passes() -> None:
    nasty = "<script>&nbsp; 5 < 6 & \"x\" 'y' &amp;"
    assert check_html(f"<b>{html.escape(nasty)}</b>") == nasty


def test_utf16_len_counts_surrogate_pairs() -> None:
    assert utf16_len("a😀") == 3
