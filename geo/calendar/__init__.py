"""The working-time calendar of mainland China, for any year.

* :mod:`geo.calendar.holidays` - the statutory public holidays, computed from the law and the
  lunar calendar (pure).
* :mod:`geo.calendar.days` - which days this process counts as working days: weekends,
  statutory holidays and each year's State Council notice (调休), with a per-year index that
  :mod:`geo.cases.worktime` counts deadlines on (pure, process-wide).
* :mod:`geo.calendar.models` / :mod:`geo.calendar.service` - the notices administrators enter,
  stored in PostgreSQL and loaded into the process.
"""
