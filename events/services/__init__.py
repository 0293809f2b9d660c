"""The rules of events, one module a concept, free of Flask request objects:

- `seats` — places, waiting list, approval, the event lock (one service for courses too);
- `registration` — the public form: answers, organisation, consent, the ticket mail;
- `tickets` — QR codes, the printable PDF ticket, the ticket's calendar file;
- `notifications` — the mail a registration is owed (the worker's) and the reminders;
- `checkin` — marking attendance: the door, the trainer, the register;
- `door` — what the door page shows: counts, the offline list, search;
- `registrants` — the organiser's list, editing and export; `registrant_import` the CSV import;
- `listing`, `editing` — lists and summaries of events; the organiser's edits;
- `access` — who may manage an event or check people in.
"""
