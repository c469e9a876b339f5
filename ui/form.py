"""Forms as data: a wizard is a list of steps (field, question, keyboard or quick
picks, parser, condition), and the kit asks them in order, keeps the draft in the
dialog state, shows a preview (a summary with "edit one field" buttons) and edits
one field for free.

Three modes:

- ``NEW``: every step in order (optional steps too), then the preview;
- ``REVIEW``: one field changed from the preview, then any step that change made
  necessary, then the preview again;
- ``EDIT``: one field of something saved, then any step it made necessary, then
  the form's ``finish`` (which saves).

A feature keeps its own typed ``CallbackData`` for its buttons and registers its
handlers; a handler of a press gets the form's run with :meth:`Form.resume` (which
re-checks the permission through the form's ``guard`` on every press), changes the
draft and calls :meth:`Run.advance`. Typed answers go through :meth:`Form.typed`,
which parses them with the step's parser; a parser raises the services'
``DomainError``, and the person is told why and asked again.

A tiny example (tests/unit/test_form.py has it running)::

    form = Form(
        name="pet",
        steps=(
            Step("name", PetStates.name, question=lambda run: "Name?", parse=set_name),
            Step("age", PetStates.age, question=lambda run: "Age?", parse=set_age),
        ),
        load=Pet.from_dict, dump=Pet.to_dict,
        preview_state=PetStates.preview, preview=pet_card,
        finish=save_pet,
    )
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Generic, TypeVar

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from sqlmodel.ext.asyncio.session import AsyncSession

from services.access import Actor
from services.errors import DomainError
from ui import screen
from ui.errors import error_text as catalogue_text
from ui.errors import no_longer_active, refuse

NEW, REVIEW, EDIT = "new", "review", "edit"

D = TypeVar("D")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply | None
Maybe = Awaitable[Any] | Any


async def _value(result: Maybe) -> Any:
    """A hook may be a plain function or a coroutine function."""
    return await result if inspect.isawaitable(result) else result


stale = no_longer_active


@dataclass(frozen=True)
class Step(Generic[D]):
    """One question of a form.

    ``question`` and ``keyboard`` take the run (sync or async; a question may also
    return its text and keyboard together, as a pair); ``parse`` takes the
    run and the typed text, writes the answer into ``run.draft`` and raises a
    ``DomainError`` for a bad one (``error``, when given, words that refusal instead
    of the form's ``error_text``; ``retry_keyboard`` sends the keyboard again with
    it). ``pick`` takes a quick pick's number (a button under the question) the
    same way. ``when`` is the condition for the step to be asked at all; ``answered``
    says whether the draft holds its answer (by default: the draft's attribute of
    the field's name is not None). An ``optional`` step is never missing: a new
    form asks it in its turn, a review only when chosen."""

    field: str
    state: State
    question: Callable[[Run[D]], Maybe]
    keyboard: Callable[[Run[D]], Maybe] | None = None
    parse: Callable[[Run[D], str], None] | None = None
    when: Callable[[D], bool] | None = None
    answered: Callable[[D], bool] | None = None
    optional: bool = False
    error: Callable[[DomainError], str] | None = None
    retry_keyboard: bool = False
    pick: Callable[[Run[D], int], None] | None = None

    def applies(self, draft: D) -> bool:
        return self.when is None or self.when(draft)

    def is_answered(self, draft: D) -> bool:
        if self.answered is not None:
            return self.answered(draft)
        return getattr(draft, self.field, None) is not None


@dataclass
class Run(Generic[D]):
    """One person filling one form: where the questions go, the draft, the mode, the
    field being changed, and the feature's own values (``extra``, plain values)."""

    form: Form[D]
    bot: Bot
    chat_id: int
    state: FSMContext
    session: AsyncSession
    locale: str
    draft: D
    mode: str = NEW
    field: str | None = None
    extra: dict[str, Any] = dataclass_field(default_factory=dict)
    actor: Actor | None = None
    # The update's own values a hook may need (settings, ...); never stored.
    context: dict[str, Any] = dataclass_field(default_factory=dict)

    async def store(self) -> None:
        await self.state.set_data(
            {
                "form": self.form.name,
                "draft": self.form.dump(self.draft),
                "mode": self.mode,
                "field": self.field,
                "extra": self.extra,
            }
        )

    async def send(self, text: str, markup: Markup = None) -> None:
        await self.bot.send_message(self.chat_id, text, reply_markup=markup)

    async def ask(self, field_name: str) -> None:
        """Ask one step (the preview for a field the form does not have)."""
        step = self.form.step(field_name)
        if step is None:
            await self.show_preview()
            return
        await self.state.set_state(step.state)
        text = await _value(step.question(self))
        markup = await _value(step.keyboard(self)) if step.keyboard else None
        if isinstance(text, tuple):  # a question that makes its keyboard too
            text, markup = text
        await self.send(text, markup)

    async def ask_again(self, step: Step[D], error: DomainError) -> None:
        """Tell why an answer was refused (the same step stays asked)."""
        text = step.error(error) if step.error else self.form.error_text(error)
        markup = None
        if step.retry_keyboard and step.keyboard:
            markup = await _value(step.keyboard(self))
        await self.send(text, markup)

    async def picked(self, callback: CallbackQuery, step: Step[D], value: int) -> None:
        """A quick pick pressed: its value into the draft and on, or why not."""
        assert step.pick is not None
        try:
            step.pick(self, value)
        except DomainError as error:
            await callback.answer()
            await self.ask_again(step, error)
            return
        await callback.answer()
        await screen.strip(self.bot, callback)
        await self.advance(step.field)

    async def show_preview(self) -> None:
        self.mode = REVIEW
        await self.store()
        await self.state.set_state(self.form.preview_state)
        text, markup = await self.form.preview(self)
        await self.send(text, markup)

    async def edit(self, field_name: str) -> None:
        """Change one field from the preview."""
        self.mode = REVIEW
        await self.store()
        await self.ask(field_name)

    async def advance(self, after: str | None = None) -> None:
        """After an answer to ``after``: the next step, the preview, or (editing
        something saved) the form's ``finish``."""
        await self.store()
        following = self.form.next_field(self.draft, self.mode, after)
        if following is not None:
            await self.ask(following)
        elif self.mode == EDIT:
            await self.form.finish(self)
        else:
            await self.show_preview()

    async def allowed(self) -> bool:
        return self.form.guard is None or await self.form.guard(self)


@dataclass(frozen=True)
class Form(Generic[D]):
    """A form: its steps in order, how its draft is kept, its preview, what a
    single-field edit does when complete, and who may go on with it (``guard``,
    checked on every answer and press)."""

    name: str
    steps: Sequence[Step[D]]
    load: Callable[[Mapping[str, Any] | None], D]
    dump: Callable[[D], dict[str, Any]]
    preview_state: State
    preview: Callable[[Run[D]], Awaitable[tuple[str, Markup]]]
    finish: Callable[[Run[D]], Awaitable[None]]
    guard: Callable[[Run[D]], Awaitable[bool]] | None = None
    error_text: Callable[[DomainError], str] = catalogue_text

    def step(self, field_name: str | None) -> Step[D] | None:
        return next((s for s in self.steps if s.field == field_name), None)

    def step_in(self, raw_state: str | None) -> Step[D] | None:
        return next((s for s in self.steps if s.state.state == raw_state), None)

    def states(self, *, typed: bool = False) -> tuple[State, ...]:
        return tuple(s.state for s in self.steps if not typed or s.parse is not None)

    def missing(self, draft: D) -> list[str]:
        """Steps that apply and are not answered yet, in order."""
        return [
            s.field
            for s in self.steps
            if not s.optional and s.applies(draft) and not s.is_answered(draft)
        ]

    def next_field(self, draft: D, mode: str, after: str | None) -> str | None:
        """A new form goes on in order from ``after`` (optional steps included);
        otherwise the first step missing; None when nothing is left."""
        if mode == NEW:
            names = [s.field for s in self.steps]
            start = names.index(after) + 1 if after in names else 0
            for step in self.steps[start:]:
                if step.applies(draft) and (step.optional or not step.is_answered(draft)):
                    return step.field
        missing = self.missing(draft)
        return missing[0] if missing else None

    async def start(
        self,
        bot: Bot,
        chat_id: int,
        state: FSMContext,
        session: AsyncSession,
        *,
        locale: str,
        draft: D,
        mode: str = NEW,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        actor: Actor | None = None,
        context: dict[str, Any] | None = None,
    ) -> Run[D]:
        """Begin: a new form at its first step (or ``field``), or a saved thing's
        ``field`` alone (mode ``EDIT``)."""
        run = Run(self, bot, chat_id, state, session, locale, draft, mode, field, extra or {})
        run.actor, run.context = actor, context or {}
        await run.store()
        await run.ask(field or self.steps[0].field)
        return run

    async def load_run(
        self,
        bot: Bot,
        chat_id: int,
        state: FSMContext,
        session: AsyncSession,
        *,
        locale: str,
        actor: Actor | None = None,
        context: dict[str, Any] | None = None,
    ) -> Run[D] | None:
        """The run kept in the dialog state, if it is this form's."""
        data = await state.get_data()
        if data.get("form") != self.name:
            return None
        return Run(
            self,
            bot,
            chat_id,
            state,
            session,
            locale,
            self.load(data.get("draft")),
            str(data.get("mode", NEW)),
            data.get("field"),
            dict(data.get("extra") or {}),
            actor,
            context or {},
        )

    async def resume(
        self,
        event: CallbackQuery | Message,
        bot: Bot,
        state: FSMContext,
        session: AsyncSession,
        i18n: I18n,
        actor: Actor | None = None,
        **context: Any,
    ) -> Run[D] | None:
        """The run an answer or a press belongs to, after the permission re-check.
        None when there is none (the press is answered as no longer active) or the
        presser may no longer go on (refused). ``context``: the update's values the
        form's hooks need (kept on the run, never stored)."""
        assert event.from_user is not None
        run = await self.load_run(
            bot,
            event.from_user.id,
            state,
            session,
            locale=i18n.current_locale,
            actor=actor,
            context=context,
        )
        if run is None:
            if isinstance(event, Message):
                await state.clear()
            await event.answer(stale())
            return None
        if not await run.allowed():
            await refuse(event)
            return None
        return run

    @property
    def typed(self) -> Callable[..., Awaitable[None]]:
        """The handler of a typed answer, for the states of the steps with a parser."""

        async def typed_answer(
            message: Message,
            bot: Bot,
            state: FSMContext,
            session: AsyncSession,
            i18n: I18n,
            actor: Actor | None = None,
            **context: Any,
        ) -> None:
            step = self.step_in(await state.get_state())
            run = await self.resume(message, bot, state, session, i18n, actor, **context)
            if run is None:
                return
            if step is None or step.parse is None:
                await state.clear()
                await message.answer(stale())
                return
            try:
                step.parse(run, message.text or "")
            except DomainError as error:
                await run.ask_again(step, error)
                return
            await run.advance(step.field)

        return typed_answer
