"""Notifications about rendered videos."""
