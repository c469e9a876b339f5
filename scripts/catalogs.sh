#!/usr/bin/env bash
# Refresh the translation catalogs from the code:
#   1. re-extract locales/messages.pot from bot, ui, handlers, reports, services and storage;
#   2. update the zh_CN and en catalogs from it (no fuzzy matching, obsolete entries dropped);
#   3. set every msgstr of the en catalog to its msgid (English is the source; plural
#      entries: msgstr[0] = msgid, msgstr[n>0] = msgid_plural);
#   4. report the zh_CN messages still untranslated (or fuzzy) and exit 1 if there are any.
# Runs from the repository root wherever it is invoked from.
# PYTHON may point at another interpreter with Babel installed (default: .venv/bin/python).
set -euo pipefail

# A relative PYTHON given by the caller is relative to the caller's directory.
if [[ -n "${PYTHON:-}" && "$PYTHON" == */* && "$PYTHON" != /* ]]; then
    PYTHON="$PWD/$PYTHON"
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

pybabel() {
    "$PYTHON" -m babel.messages.frontend "$@"
}

POT=locales/messages.pot
LOCALES=(zh_CN en)
tmp_pot="$(mktemp "${TMPDIR:-/tmp}/messages.XXXXXX.pot")"
trap 'rm -f "$tmp_pot"' EXIT

pybabel -q extract -F babel.cfg -k _ -k __ -k lazy_gettext --no-location --sort-output \
    --project volunteer-station-bot --copyright-holder "Volunteer station bot team" \
    -o "$tmp_pot" bot ui handlers reports services storage

# Keep the old template (and its creation date) when only the date would change,
# so that running this script twice leaves no diff behind.
if [[ -f "$POT" ]] && diff -q \
        <(grep -v '^"POT-Creation-Date: ' "$POT") \
        <(grep -v '^"POT-Creation-Date: ' "$tmp_pot") >/dev/null; then
    echo "template unchanged: $POT"
else
    cp "$tmp_pot" "$POT"
    echo "template updated: $POT"
fi

for locale in "${LOCALES[@]}"; do
    po="locales/$locale/LC_MESSAGES/messages.po"
    if [[ -f "$po" ]]; then
        pybabel -q update --no-fuzzy-matching --ignore-obsolete \
            -i "$POT" -d locales -D messages -l "$locale"
    else
        pybabel -q init -i "$POT" -d locales -D messages -l "$locale"
    fi
done

# English is the source language: its translation of a message is the message itself.
# A plural entry gets one string per plural form of the catalog: msgstr[0] = msgid,
# every other msgstr[n] = msgid_plural. Partly filled or stale entries are corrected too.
"$PYTHON" - locales/en/LC_MESSAGES/messages.po <<'PY'
import sys

from babel.messages.pofile import read_po, write_po

path = sys.argv[1]
with open(path, "rb") as f:
    catalog = read_po(f, locale="en")
filled = 0
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, tuple | list):
        singular, plural = message.id[0], message.id[1]
        wanted = tuple([singular] + [plural] * (catalog.num_plurals - 1))
    else:
        wanted = message.id
    current = tuple(message.string) if isinstance(message.string, tuple | list) else message.string
    if current != wanted or message.fuzzy:
        message.string = wanted
        message.flags.discard("fuzzy")
        filled += 1
if filled:
    with open(path, "wb") as f:
        write_po(f, catalog, width=76, omit_header=False, sort_output=True,
                 ignore_obsolete=True)
print(f"en: set {filled} message(s) to their msgid")
PY

# What the Chinese catalog still lacks.
"$PYTHON" - locales/zh_CN/LC_MESSAGES/messages.po <<'PY'
import sys

from babel.messages.pofile import read_po

with open(sys.argv[1], "rb") as f:
    catalog = read_po(f, locale="zh_CN")
missing = []
for message in catalog:
    if not message.id:
        continue
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    if message.fuzzy or not all(strings):
        missing.append(message.id)
print(f"zh_CN: {len(missing)} untranslated message(s)")
for msgid in missing:
    text = msgid[0] if isinstance(msgid, tuple | list) else msgid
    print("  - " + text.replace("\n", "\\n"))
sys.exit(1 if missing else 0)
PY
