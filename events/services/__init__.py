"""The rules of events, one module a concept: `seats` (places, waiting list, the event
lock), `checkin` (marking attendance). No Flask request objects in here."""
