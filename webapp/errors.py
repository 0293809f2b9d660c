"""The one error family services raise: a stable reason code, a message for people.

Views turn it into a flashed message or a form error (`field`), the API into
`{"status": "error", "reason": ..., "message": ...}`. Each package subclasses it once and
keeps its reason → message table beside it, so the codes stay stable and the messages
translated (lazy strings, rendered in the reader's language).
"""


class ServiceError(Exception):
    """A change the rules refuse. `reason` is a stable code for programs; `message` is
    the text for people (from the subclass's MESSAGES, or given); `field` the form field
    it belongs to, when there is one."""

    MESSAGES: dict = {}

    def __init__(self, reason: str, message=None, *, field: str | None = None, **details):
        super().__init__(reason)
        self.reason = reason
        self._message = message
        self.field = field
        self.details = details

    @property
    def message(self) -> str:
        text = self._message if self._message is not None else self.MESSAGES.get(self.reason)
        return str(text if text is not None else self.reason)

    def __str__(self) -> str:
        return self.message

    def as_json(self) -> dict:
        return {"status": "error", "reason": self.reason, "message": self.message}
