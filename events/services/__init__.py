"""The rules of events, one module a concept, free of Flask request objects:

- `seats` — places, waiting list, approval, the event lock (one service for courses too);
- `registration` — the public form: answers, organisation, consent, the ticket mail;
- `tickets` — QR codes, the printable PDF ticket, the ticket's calendar file;
- `checkin` — marking attendance at the door (and, later, by trainers);
- `registrants` — the organiser's list, export and import;
- `listing`, `editing` — lists and summaries of events; the organiser's edits;
- `access` — who may manage an event or check people in.
"""
