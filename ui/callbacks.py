"""Every button's data, typed (aiogram's CallbackData), in one place: numbers are
bounded where they are parsed (CbInt), so forged data is "no longer active"."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Every number a button carries (a row id, a page, a day ordinal, an amount, a time)
# is bounded where the data is parsed: ids are INTEGER columns (32 bits on
# PostgreSQL, and 2**63 overflows even SQLite), and dates and durations made from
# these numbers stay in range. Data out of range does not unpack, so the button is
# "no longer active" (handlers.fallback) and no handler ever sees it.
CB_INT_MAX = 2**31 - 1
CbInt = Annotated[int, Field(ge=0, le=CB_INT_MAX)]


class LanguageCb(CallbackData, prefix="lg"):
    code: str


class StationCb(CallbackData, prefix="st"):
    """Walk the station tree: open a node (o), pick it (p), or page its children."""

    action: str
    id: CbInt
    page: CbInt = 0


class SkillCb(CallbackData, prefix="sk"):
    code: str  # a skill code, or "done"


class AgeCb(CallbackData, prefix="ag"):
    group: str


class ConsentCb(CallbackData, prefix="cs"):
    what: str  # privacy_yes, privacy_no, guardian_yes


class SummaryCb(CallbackData, prefix="sm"):
    action: str  # ok, cancel, or the field to edit


class ProfileCb(CallbackData, prefix="pf"):
    action: str  # a field to edit, or "lang"


class EraseCb(CallbackData, prefix="er"):
    confirm: bool


class ActStationCb(CallbackData, prefix="as"):
    """Pick the station to publish on (id), or turn the page (id 0)."""

    id: CbInt
    page: CbInt = 0


class ActKindCb(CallbackData, prefix="ak"):
    kind: str  # an ActivityKind value


class ActTargetCb(CallbackData, prefix="at"):
    group: str  # a TargetGroup value


class ActQuickCb(CallbackData, prefix="aq"):
    """A quick pick: start (s, epoch minutes), end (e, minutes after the start),
    capacity (c), repeat (r, extra weeks), description skipped (d)."""

    step: str
    value: CbInt


class ActPreviewCb(CallbackData, prefix="ap"):
    action: str  # publish, edit, back, cancel, or a field of the draft to change


class ActManageCb(CallbackData, prefix="am"):
    page: CbInt


class ActEditCb(CallbackData, prefix="ae"):
    """Edit a published activity: the field menu (field empty), then one field."""

    id: CbInt
    field: str = ""


class ActCancelCb(CallbackData, prefix="ac"):
    """Cancel a published activity: ask, yes, or keep."""

    id: CbInt
    action: str = "ask"


class RosterListCb(CallbackData, prefix="rol"):
    """A page of the activities one may run the roster of."""

    page: CbInt = 0


class RosterCb(CallbackData, prefix="ros"):
    """One activity's roster, a page of people at a time."""

    activity: CbInt
    page: CbInt = 0


class RosterPersonCb(CallbackData, prefix="rop"):
    """One person on a roster: their attendance and what staff can do about it."""

    activity: CbInt
    volunteer: CbInt
    page: CbInt = 0


class RosterMarkCb(CallbackData, prefix="rom"):
    """A staff action on one person: present, late, absent, confirm or minutes."""

    activity: CbInt
    volunteer: CbInt
    action: str
    page: CbInt = 0


class RosterCodeCb(CallbackData, prefix="roc"):
    """Open check-in (or show its code again): the code and its QR image."""

    activity: CbInt
    page: CbInt = 0


class RosterBenCb(CallbackData, prefix="rob"):
    """The beneficiaries screen (group empty), or type one group's count."""

    activity: CbInt
    group: str = ""


class RosterCloseCb(CallbackData, prefix="rox"):
    """Close the records: first what it would do (confirm false), then do it."""

    activity: CbInt
    confirm: bool = False


class RosterSheetCb(CallbackData, prefix="roz"):
    """The sign-in sheet (签到表) of an activity as a file: PDF (p) or XLSX (x)."""

    activity: CbInt
    fmt: str


class RosterRecCb(CallbackData, prefix="ror"):
    """An activity's record (台账): open it (o), add photos (p), write the summary (s),
    stop adding photos (d), or get the record sheet as a PDF (f)."""

    activity: CbInt
    action: str = "o"


class CheckinAskCb(CallbackData, prefix="cki"):
    """From the activity card: check in, by typing the code shown on site."""

    activity: CbInt


class CheckoutCb(CallbackData, prefix="cko"):
    """Check out of one activity."""

    activity: CbInt


class BcStationCb(CallbackData, prefix="db"):
    """Walk the stations one may broadcast to: open (o) or pick (p); 0 is the top."""

    action: str
    id: CbInt
    page: CbInt = 0


class BcSkillCb(CallbackData, prefix="dk"):
    code: str  # a skill code to toggle, or "done"


class BcPreviewCb(CallbackData, prefix="dp"):
    action: str  # send, text (type it again), cancel


class AnnounceCb(CallbackData, prefix="da"):
    """Announce a published activity: ask first (ask), then do it (yes) or not (no)."""

    activity: CbInt
    action: str = "ask"


class ComingCb(CallbackData, prefix="dr"):
    """A reminder's answer: yes (I'll come), no (asks), drop (gives up the seat),
    keep (changed their mind)."""

    signup: CbInt
    action: str


class SettingsCb(CallbackData, prefix="ds"):
    """/settings: set the weekly digest on or off (a value, not a toggle, so a replayed
    button does what it said)."""

    digest: bool


class CertPeriodCb(CallbackData, prefix="hc"):
    """The period of a certificate: a calendar year (kind "y" with the year), or all
    time (kind "a")."""

    kind: str
    year: CbInt = 0


class PledgePurposeCb(CallbackData, prefix="gp"):
    """The purpose: an activity's id, or 0 for the home station's community fund."""

    activity: CbInt


class PledgePurposePageCb(CallbackData, prefix="gq"):
    page: CbInt


class PledgeAmountCb(CallbackData, prefix="ga"):
    """A quick amount in fen, or 0 to type another amount."""

    fen: CbInt


class PledgeAnonymousCb(CallbackData, prefix="gn"):
    anonymous: bool


class PledgeConfirmCb(CallbackData, prefix="gc"):
    action: str  # "ok" or "cancel"


class PledgeListCb(CallbackData, prefix="gl"):
    """A page of the staff's list of open pledges."""

    page: CbInt


class PledgeDecideCb(CallbackData, prefix="gd"):
    """Staff on one pledge: received, ask (to cancel), cancel (confirmed), keep."""

    pledge: CbInt
    action: str
    page: CbInt = 0


class MyPledgesCb(CallbackData, prefix="gm"):
    """A page of the volunteer's own pledges."""

    page: CbInt


class MyPledgeWithdrawCb(CallbackData, prefix="gw"):
    """The volunteer on their own open pledge: ask (to withdraw), yes, keep."""

    pledge: CbInt
    action: str
    page: CbInt = 0


class InviteStationCb(CallbackData, prefix="iv"):
    """Walk the stations one may manage: open (o), up (u) or pick (p); 0 is the top."""

    action: str
    id: CbInt
    page: CbInt = 0


class InviteRoleCb(CallbackData, prefix="ir"):
    station: CbInt
    role: str  # a RoleKind value


class InviteConfirmCb(CallbackData, prefix="ic"):
    station: CbInt
    role: str
    ok: bool


class TeamStationCb(CallbackData, prefix="ts"):
    """The same walk for /team; picking (p) shows the team, a page of it at a time."""

    action: str
    id: CbInt
    page: CbInt = 0


class TeamRevokeCb(CallbackData, prefix="tr"):
    """Revoke one role: first ask (confirm false), then do it (confirm true)."""

    role: CbInt
    confirm: bool = False


class PendingCb(CallbackData, prefix="pd"):
    volunteer: CbInt
    approve: bool
    page: CbInt = 0


class PendingNoticeCb(CallbackData, prefix="pn"):
    """Approve or decline from the notice that a volunteer is waiting."""

    volunteer: CbInt
    approve: bool


class PendingPageCb(CallbackData, prefix="pp"):
    page: CbInt


class TallyStationCb(CallbackData, prefix="tys"):
    """Walk the stations one may see tallies of: open (o) or pick (p); 0 is the top.
    A period typed with the command (``/tally 2026-W47``) rides along (0: none)."""

    action: str
    id: CbInt
    page: CbInt = 0
    first: CbInt = 0
    last: CbInt = 0


class TallyTypeCb(CallbackData, prefix="tyt"):
    """Type a week or dates for this station's tally."""

    station: CbInt


class TallyViewCb(CallbackData, prefix="tyv"):
    """A station's tally over a period: as text (t), chart (c) or spreadsheet (x); its
    hours for the national system as XLSX (n) or CSV (v)."""

    action: str
    station: CbInt
    first: CbInt
    last: CbInt


class ListCb(CallbackData, prefix="jl"):
    page: CbInt


class DetailCb(CallbackData, prefix="jd"):
    activity: CbInt
    page: CbInt = 0


class JoinCb(CallbackData, prefix="jj"):
    activity: CbInt
    overlap_ok: bool = False


class LeaveCb(CallbackData, prefix="jc"):
    activity: CbInt
    confirm: bool = False


class OfferCb(CallbackData, prefix="jo"):
    activity: CbInt
    accept: bool


class RosterAddCb(CallbackData, prefix="roa"):
    """Add someone to an activity's records after the fact (asks name, then time)."""

    activity: CbInt
    page: CbInt = 0


class ImportStationCb(CallbackData, prefix="hi"):
    """The station walk of /import_hours: open a node (o), pick it (p), page (u)."""

    action: str
    id: CbInt
    page: CbInt = 0


class AuditCb(CallbackData, prefix="au"):
    """A page of /audit: every entry, or one activity's or one volunteer's (0: none)."""

    activity: CbInt = 0
    volunteer: CbInt = 0
    page: CbInt = 0


class RegisterStationCb(CallbackData, prefix="rgs"):
    """Walk the stations one may see the volunteers of (/volunteers): open (o) or
    pick (p); 0 is the top."""

    action: str
    id: CbInt
    page: CbInt = 0


class RegisterCb(CallbackData, prefix="rgl"):
    """A station's volunteer register: the list (l), as a spreadsheet (x), type a
    search (s), drop the search (c). ``show``: services.register.Show."""

    action: str
    station: CbInt
    show: CbInt = 0
    page: CbInt = 0


class ReportStationCb(CallbackData, prefix="rps"):
    """Walk the stations one may report on: open (o) or pick (p); 0 is the top. A
    period typed with the command (``/report 2026-Q3``) rides along: its span (m, q,
    y; "" for none), year and number."""

    action: str
    id: CbInt
    page: CbInt = 0
    span: str = ""
    year: CbInt = 0
    number: CbInt = 0


class ReportTypeCb(CallbackData, prefix="rpt"):
    """Type a month, quarter or year for this station's report."""

    station: CbInt


class ReportViewCb(CallbackData, prefix="rpv"):
    """A station's report for a month (m), quarter (q) or year (y): as text (t),
    chart (c) or spreadsheet (x)."""

    action: str
    station: CbInt
    span: str
    year: CbInt
    number: CbInt
