"""The documents people take away: tallies as text, spreadsheet and chart, the
service certificate, the sign-in sheet. They take plain values, never Telegram types."""
