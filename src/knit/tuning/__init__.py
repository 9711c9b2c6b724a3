"""Autotuning over checked schedules: `knit.tune(make_schedule, space, proc, proc_args)`.

search.py runs the search, measure.py builds and times candidates in C and keeps the
disk cache, report.py holds the points and prints the table. See docs/tuning.md.
"""

from knit.tuning.measure import Cache
from knit.tuning.report import Point, TuneResult
from knit.tuning.search import tune

__all__ = ["tune", "TuneResult", "Point", "Cache"]
