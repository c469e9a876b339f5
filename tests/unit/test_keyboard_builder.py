"""ui.keyboards.builder: the same keyboards as aiogram's builder, without copying
the buttons."""

from __future__ import annotations

from aiogram.utils.keyboard import InlineKeyboardBuilder as AiogramBuilder

from ui.callbacks import ListCb
from ui.keyboards.builder import InlineKeyboardBuilder


def fill(kb: AiogramBuilder) -> None:
    for n in range(7):
        kb.button(text=f"{n}. 垃圾分类", callback_data=ListCb(page=n))
    kb.row()
    kb.button(text="« 上一页", callback_data="prev")
    kb.adjust(1, 1, 2, 3)


def test_the_same_markup_as_aiogram_builds() -> None:
    ours, theirs = InlineKeyboardBuilder(), AiogramBuilder()
    fill(ours)
    fill(theirs)
    assert ours.as_markup() == theirs.as_markup()
    assert [len(row) for row in ours.export()] == [1, 1, 2, 3, 1]


def test_a_markup_given_out_does_not_change_with_the_builder() -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text="一", callback_data="1")
    first = kb.as_markup()
    kb.button(text="二", callback_data="2")
    kb.adjust(1)
    assert [[b.text for b in row] for row in first.inline_keyboard] == [["一"]]
    assert [[b.text for b in row] for row in kb.as_markup().inline_keyboard] == [["一"], ["二"]]
