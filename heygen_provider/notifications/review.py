"""Deprecated: moved to :mod:`heygen_provider.campaign.review`, which every name here is read from."""

from heygen_provider._moved import moved_to

__getattr__ = moved_to(__name__, "heygen_provider.campaign.review")
