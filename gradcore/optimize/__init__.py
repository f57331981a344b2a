"""Gradient descent and ascent on a formula or a Python function, with honest statuses.

`minimize` / `maximize` return an OptimizeResult whose Status says how the search ended and whose
Reason (with its sentence in MESSAGES) says why; the report functions are what the command line prints.
"""

from ._driver import DEFAULT_BOX, DEFAULT_STARTS, MAX_ITER_CAP, MAX_STARTS, maximize, minimize
from ._methods import DEFAULT_LR, METHODS
from ._report import exact_critical_point, headline, log_header, log_line, report_dict, report_text
from ._result import MESSAGES, HistoryEntry, LocalOptimum, OptimizeResult, Reason, Status

__all__ = [
    "minimize", "maximize", "OptimizeResult", "Status", "Reason", "MESSAGES", "HistoryEntry",
    "LocalOptimum", "METHODS", "DEFAULT_LR", "DEFAULT_STARTS", "DEFAULT_BOX", "MAX_STARTS", "MAX_ITER_CAP",
    "report_dict", "report_text", "headline", "log_header", "log_line", "exact_critical_point",
]
