"""Deprecated: the campaign reporting moved to :mod:`heygen_provider.campaign`."""
