"""The one warning class of sigdist."""

__all__ = ["SigdistWarning"]


class SigdistWarning(UserWarning):
    """A computed result is less accurate than asked (the message names the quantity)."""
