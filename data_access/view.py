"""The View: everything that selects what a page shows, as one frozen (hashable, cacheable) value.

URL ?region=&from=&to=&cat=&src=&status=  <->  View  ->  queries. A click only changes the View.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, replace

from .codes import level_of
from .scope import Scope


@dataclass(frozen=True)
class View:
    region: str                      # 12-digit code (15 for a grid)
    date_from: dt.date               # first day, inclusive
    date_to: dt.date                 # last day, inclusive
    categories: tuple[str, ...] = ()  # empty: all
    sources: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    #: Who asks (data_access.scope): every query narrows the region to it; None = the process default, which
    #: is nobody (no rows) unless the process declared itself (the CLI, tests: scope.trust_process).
    scope: Scope | None = None

    @property
    def level(self) -> str:
        return level_of(self.region)

    def with_region(self, code: str) -> "View":
        return replace(self, region=code)

    def with_scope(self, scope: Scope | None) -> "View":
        return replace(self, scope=scope)

    def previous(self) -> "View":
        """The period of the same length just before this one (for 环比 change)."""
        if self.date_from.day == 1 and (self.date_to + dt.timedelta(days=1)).day == 1:
            months = (self.date_to.year - self.date_from.year) * 12 + self.date_to.month - self.date_from.month + 1
            first = _add_months(self.date_from, -months)
            return replace(self, date_from=first, date_to=self.date_from - dt.timedelta(days=1))
        days = (self.date_to - self.date_from).days + 1
        return replace(self, date_from=self.date_from - dt.timedelta(days=days),
                       date_to=self.date_from - dt.timedelta(days=1))

    def trailing(self, months: int) -> "View":
        """The ``months`` months that end with this period's last day (the window that judges small numbers)."""
        return replace(self, date_from=_add_months(self.date_to + dt.timedelta(days=1), -months))

    def year_ago(self) -> "View":
        """The same period one year earlier (for 同比 change)."""
        return replace(self, date_from=_add_months(self.date_from, -12),
                       date_to=_add_months(self.date_to + dt.timedelta(days=1), -12) - dt.timedelta(days=1))


def _add_months(d: dt.date, months: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + months
    year, month = divmod(m, 12)
    return dt.date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))
