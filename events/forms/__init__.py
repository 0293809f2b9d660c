"""Forms of events, one module a concern: `manage` (event, agenda, questions), `registration`
(the public form built from the event's questions), `registrants` (filters, import)."""
