"""Unguessable codes: tickets, calendar feeds, API tokens, verification codes."""

import secrets

# Crockford's base32 alphabet: no I, L, O or U, so a person can read a code aloud or type it.
SECRET_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # noqa: S105  an alphabet


def random_secret(bits: int = 130) -> str:
    """An unguessable code from `secrets`, at least 128 bits, without look-alike characters."""
    length = -(-bits // 5)
    number = secrets.randbits(length * 5)  # one call: an import makes thousands of these
    return "".join(SECRET_ALPHABET[(number >> (5 * place)) & 31] for place in range(length))
