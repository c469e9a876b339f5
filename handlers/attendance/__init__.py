"""Attendance, the Telegram side. Three routers, each in its place in the dispatcher's
order (handlers/__init__.py): ``checkin`` (volunteers check in and out; before
registration's /start), ``roster`` (staff's /roster and its screens) and ``signin``
(the sign-in sheet buttons of /roster). The modules by use case:

- ``activity_list``: /roster's list of activities;
- ``roster_screen``: one activity's roster;
- ``marks``: one person, marks and minutes;
- ``codes``: the check-in code and its QR image, for staff;
- ``beneficiaries``: people served by target group;
- ``closing``: closing the records;
- ``records``, ``record_photos``: the record's photos and summary, the record sheet;
- ``notices``: the outbox's notices about records;
- ``checkin``, ``checkin_texts``, ``checkin_card``: a volunteer's check-in and check-out;
- ``signin``: the sign-in sheet as a PDF or a spreadsheet;
- ``common``: what they share."""

from handlers.attendance import checkin, roster, signin

__all__ = ["checkin", "roster", "signin"]
