"""The certificates' refusals share one base: a ServiceError whose message may name what
it is about (a person, a limit), filled in from the details it was raised with."""

from webapp.errors import ServiceError


class CertificatesRefusal(ServiceError):
    """`CertificatesRefusal("reason", name="…")`: MESSAGES[reason] % details."""

    @property
    def message(self) -> str:
        text = super().message
        return text % self.details if self.details and self._message is None else text
