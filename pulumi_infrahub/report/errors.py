"""Errors the report raises.

ReportInputError    an input file is missing, unreadable, or not what
                    `pulumi preview` (or `GET /pricebook`) writes
"""

from __future__ import annotations

__all__ = ["ReportInputError"]


class ReportInputError(Exception):
    """An input file cannot be read as what it was passed as."""
