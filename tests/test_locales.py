"""The translation catalogs: complete, faithful to their msgids, current with the code,
and actually served by the bot."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
LOCALES = ("zh_CN", "en")
PACKAGES = ("bot", "handlers", "services", "storage")

TAG = re.compile(r"</?[a-z-]+")
COMMAND = re.compile(r"(?<![\w/<])/[a-z_]+")
CJK = "\u3400-\u9fff"
HAS_CJK = re.compile(f"[{CJK}]")
# An ASCII punctuation mark touching a Chinese character: Chinese text wants ，。：；！？（）.
HALF_WIDTH_IN_CHINESE = re.compile(f"[{CJK}][,.:;!?()]|[,.:;!?()][{CJK}]")


def load(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=locale)


CATALOGS = {locale: load(locale) for locale in LOCALES}


def strings(message: Message) -> list[str]:
    value = message.string
    return list(value) if isinstance(value, (tuple, list)) else [value]


def msgids(message: Message) -> list[str]:
    value = message.id
    return list(value) if isinstance(value, (tuple, list)) else [value]


def messages(locale: str) -> list[Message]:
    return [m for m in CATALOGS[locale] if m.id]


def pairs(locale: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) for every translated string; a plural form is checked against the
    plural msgid."""
    result = []
    for message in messages(locale):
        ids = msgids(message)
        for index, text in enumerate(strings(message)):
            result.append((ids[min(index, len(ids) - 1)], text))
    return result


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def tags(text: str) -> Counter[str]:
    return Counter(TAG.findall(text))


def ids_of(pairs_: list[tuple[str, str]]) -> list[str]:
    return [msgid for msgid, _ in pairs_]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(locale: str) -> None:
    assert messages(locale), f"{locale}: empty catalog"
    untranslated = [m.id for m in messages(locale) if not all(s.strip() for s in strings(m))]
    fuzzy = [m.id for m in messages(locale) if m.fuzzy]
    assert not untranslated, f"{locale}: untranslated: {untranslated}"
    assert not fuzzy, f"{locale}: fuzzy: {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match(locale: str) -> None:
    wrong = [
        (msgid, text) for msgid, text in pairs(locale) if placeholders(text) != placeholders(msgid)
    ]
    assert not wrong, f"{locale}: placeholders differ: {wrong}"


@pytest.mark.parametrize("locale", LOCALES)
def test_html_tags_match(locale: str) -> None:
    wrong = [(msgid, text) for msgid, text in pairs(locale) if tags(text) != tags(msgid)]
    assert not wrong, f"{locale}: HTML tags differ: {wrong}"


@pytest.mark.parametrize("locale", LOCALES)
def test_line_breaks_match(locale: str) -> None:
    wrong = [
        (msgid, text) for msgid, text in pairs(locale) if text.count("\n") != msgid.count("\n")
    ]
    assert not wrong, f"{locale}: line breaks differ: {wrong}"


@pytest.mark.parametrize("locale", LOCALES)
def test_commands_kept_and_recognisable(locale: str) -> None:
    """Same /commands as the msgid, each standing free so Telegram still sees a command."""
    wrong = []
    for msgid, text in pairs(locale):
        if Counter(COMMAND.findall(text)) != Counter(COMMAND.findall(msgid)):
            wrong.append((msgid, text))
            continue
        for match in COMMAND.finditer(text):
            before = text[match.start() - 1] if match.start() else " "
            after = text[match.end()] if match.end() < len(text) else " "
            if not (before.isspace() and (after.isspace() or after in ".,;:!?")):
                wrong.append((msgid, text))
                break
    assert not wrong, f"{locale}: commands changed or glued to text: {wrong}"


@pytest.mark.parametrize("locale", LOCALES)
def test_button_emoji_kept(locale: str) -> None:
    """A leading or trailing symbol of a label (✅, ✏️, ‹, ›, ➡️ ...) stays where it is."""
    wrong = []
    for msgid, text in pairs(locale):
        words = msgid.split(" ")
        if len(words) < 2:
            continue
        first, last = words[0], words[-1]
        if not any(c.isalnum() or c in "/<{" for c in first) and not text.startswith(first + " "):
            wrong.append((msgid, text))
        if not any(c.isalnum() or c in "/<{." for c in last) and not text.endswith(" " + last):
            wrong.append((msgid, text))
    assert not wrong, f"{locale}: label symbols moved: {wrong}"


# The header each catalog must carry: gettext picks msgstr[n] by it.
PLURAL_FORMS = {
    "zh_CN": "nplurals=1; plural=0;",
    "en": "nplurals=2; plural=(n != 1);",
}


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_forms_header(locale: str) -> None:
    text = (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    found = re.search(r'^"Plural-Forms: (.*?)\\n"$', text, re.MULTILINE)
    assert found, f"{locale}: no Plural-Forms header"
    assert found.group(1) == PLURAL_FORMS[locale]
    assert CATALOGS[locale].num_plurals == int(PLURAL_FORMS[locale].split(";")[0][-1])


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_entries_complete_with_the_same_placeholders(locale: str) -> None:
    """A plural entry has one msgstr per plural form, none empty, each with the fields of
    msgid and msgid_plural (whichever form gettext picks, .format() gets what it needs)."""
    catalog = CATALOGS[locale]
    plural = [m for m in messages(locale) if m.pluralizable]
    wrong = []
    for message in plural:
        singular, many = msgids(message)
        fields = placeholders(singular) | placeholders(many)
        forms = strings(message)
        if len(forms) != catalog.num_plurals or placeholders(singular) != placeholders(many):
            wrong.append((message.id, message.string))
            continue
        for form in forms:
            if not form.strip() or placeholders(form) != fields:
                wrong.append((message.id, message.string))
                break
    assert not wrong, f"{locale}: plural entries wrong or incomplete: {wrong}"


def test_english_plurals_are_the_msgids() -> None:
    wrong = []
    for message in messages("en"):
        if message.pluralizable:
            singular, many = msgids(message)
            if strings(message) != [singular, many]:
                wrong.append((message.id, message.string))
    assert not wrong, f"en: plural msgstr[0] must be msgid and msgstr[1] msgid_plural: {wrong}"


def test_english_is_the_source() -> None:
    wrong = [(msgid, text) for msgid, text in pairs("en") if text != msgid]
    assert not wrong, f"en: msgstr differs from msgid: {wrong}"


def test_chinese_is_chinese_with_full_width_punctuation() -> None:
    language_names = {"中文 / English"}
    not_chinese = [
        msgid
        for msgid, text in pairs("zh_CN")
        if not HAS_CJK.search(text) and text not in language_names
    ]
    assert not not_chinese, f"zh_CN: no Chinese in: {not_chinese}"
    half_width = [text for _, text in pairs("zh_CN") if HALF_WIDTH_IN_CHINESE.search(text)]
    assert not half_width, f"zh_CN: half-width punctuation in Chinese text: {half_width}"


def test_chinese_labels_stay_short() -> None:
    """Buttons, labels and menu entries (short msgids, no fields) stay short in Chinese."""
    long_labels = [
        (msgid, text)
        for msgid, text in pairs("zh_CN")
        if len(msgid) <= 25 and not set(msgid) & set("{/") and len(text) > 12
    ]
    assert not long_labels, f"zh_CN: long labels: {long_labels}"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages of the code now, extracted exactly as scripts/catalogs.sh does."""
    pot = tmp_path_factory.mktemp("extract") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "__",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(pot),
            *PACKAGES,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as pot_file:
        return read_po(pot_file)


def test_extraction_finds_messages(extracted: Catalog) -> None:
    assert "Choose your language:" in {m.id for m in extracted if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_covers_the_code(extracted: Catalog, locale: str) -> None:
    catalog = CATALOGS[locale]
    missing = []
    for message in extracted:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        if found is None or found.fuzzy or not all(s.strip() for s in strings(found)):
            missing.append(message.id)
    assert not missing, (
        f"{locale}: messages in the code without a translation (run scripts/catalogs.sh, "
        f"then translate): {missing}"
    )


def test_the_bot_serves_the_translations() -> None:
    from ui.i18n import make_i18n

    i18n = make_i18n("zh_CN")
    assert set(LOCALES) <= set(i18n.available_locales)
    for msgid in ("Choose your language:", "Your age group:", "✅ I agree"):
        chinese = i18n.gettext(msgid, locale="zh_CN")
        assert chinese != msgid
        assert HAS_CJK.search(chinese), chinese
        assert i18n.gettext(msgid, locale="en") == msgid
    name = i18n.gettext(
        "Welcome back, {name}! Send /help to see what you can do.", locale="zh_CN"
    ).format(name="张三")
    assert "张三" in name and "/help" in name


# --- Chinese typography: full-width colons, titles in quotes ------------------------

# What may hold an ASCII colon in Chinese text: a placeholder ({n:,}), an HTML tag, a
# URL (https://…), a time of day (9:00, 11:30). Anything else is text and wants "：".
_NOT_TEXT = re.compile(r"\{[^{}]*\}|<[^<>]*>|[a-z][a-z0-9+.-]*://\S+|\d:\d", re.IGNORECASE)
# An activity's title as staff typed it. In a sentence it is quoted, 「…」 (or 《…》),
# tags allowed inside or outside the marks; as the value of a label ("标题：{title}",
# "签到成功：<b>{title}</b>") or a field of a list line ("· {title} ·") it stands alone.
TITLE = re.compile(r"\{title\}")
_TAGS = r"(?:</?[a-z]+>)*"
_QUOTED_TITLE = re.compile(f"[「《]{_TAGS}\\{{title\\}}{_TAGS}[」》]")
_STANDING_TITLE = re.compile(f"(?:：|· ){_TAGS}\\{{title\\}}")


def ascii_colons(text: str) -> list[str]:
    """The ASCII colons of a Chinese text that belong to its words, with their context."""
    plain = _NOT_TEXT.sub(lambda m: "\0" * len(m.group(0)), text)
    return [text[max(0, i - 8) : i + 8] for i, c in enumerate(plain) if c == ":"]


def unquoted_titles(text: str) -> int:
    """How many {title} fields stand in a sentence without 「」 or 《》."""
    return (
        len(TITLE.findall(text))
        - len(_QUOTED_TITLE.findall(text))
        - len(_STANDING_TITLE.findall(text))
    )


@pytest.mark.parametrize(
    ("text", "colons", "unquoted"),
    [
        ("签到时间: {at}", 1, 0),
        ("签到时间：{at}，9:00 开始", 0, 0),
        ("{title}: 已结项", 1, 1),
        ('核验网址 https://t.me/bot?start=v_1 或 <a href="https://x.cn">链接</a>', 0, 0),
        ("共 {n:,} 人", 0, 0),
        ("您已报名<b>{title}</b>。", 0, 1),
        ("您已报名「<b>{title}</b>」。", 0, 0),
        ("您已报名<b>《{title}》</b>。", 0, 0),
        ("标题：{title}", 0, 0),
        ("✅ 签到成功：<b>{title}</b>，时间 {at}。", 0, 0),
        ("• {date} · {title} · 服务{hours}", 0, 0),
        ("<b>{title}的受益人次</b>", 0, 1),
    ],
)
def test_the_typography_rules_can_fail(text: str, colons: int, unquoted: int) -> None:
    assert len(ascii_colons(text)) == colons
    assert unquoted_titles(text) == unquoted


def test_chinese_uses_full_width_colons() -> None:
    wrong = [(text, ascii_colons(text)) for _, text in pairs("zh_CN") if ascii_colons(text)]
    assert not wrong, f"zh_CN: ASCII colons in Chinese text (use ：): {wrong}"


def test_chinese_quotes_titles_in_sentences() -> None:
    wrong = [text for _, text in pairs("zh_CN") if unquoted_titles(text)]
    assert not wrong, f"zh_CN: activity titles in sentences without 「」: {wrong}"


def test_a_missing_catalog_is_named(tmp_path: Path) -> None:
    from ui.i18n import MissingCatalog, make_i18n

    english = tmp_path / "en" / "LC_MESSAGES"
    english.mkdir(parents=True)
    (english / "messages.po").write_bytes((LOCALES_DIR / "en/LC_MESSAGES/messages.po").read_bytes())
    with pytest.raises(MissingCatalog, match=re.escape("locales/zh_CN/LC_MESSAGES/messages.po")):
        make_i18n("zh_CN", place=tmp_path)
