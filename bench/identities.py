"""The fixed, local-only identities of the benchmarks: the fake Imgur's client credentials,
bench members' Discord ids, and the tokens the lean fake Imgur accepts for them."""

from __future__ import annotations

CLIENT_ID = "benchclientid00"
CLIENT_SECRET = "benchclientsecret0000000000000000000000"
USER_ID_BASE = 300_000_000_000_000_000  # Discord user ids of bench members: base + n


def member_id(n: int) -> int:
    return USER_ID_BASE + n


def access_token(n: int) -> str:
    """Tokens the lean fake Imgur accepts: ``at.<username>.<serial>``."""
    return f"at.m{n}.{n:08d}0000000000000000000000000000"


def refresh_token(n: int) -> str:
    return f"rt.m{n}.{n:08d}0000000000000000000000000000"
