"""Formula models fitted to data: `fit("w*x + b", data, target="y")` by full-batch, per-sample or
mini-batch gradient descent, or BFGS, with gradients from the compiled numpy code on whole columns.

_data reads columns and streams (CSV files in chunks), _model compiles the model and its loss,
_loops runs the descent, _driver checks the options and judges the end, _result is what comes back.
"""

from ._data import CSVBatches, csv_batches, read_csv
from ._driver import DEFAULT_BATCH, DEFAULT_EPOCHS, DEFAULT_LR, METHODS, fit
from ._model import LOSSES
from ._result import FitResult, FitStep, log_line, report_dict, report_text

__all__ = ["fit", "FitResult", "FitStep", "read_csv", "csv_batches", "CSVBatches", "METHODS", "DEFAULT_LR",
           "DEFAULT_EPOCHS", "DEFAULT_BATCH", "LOSSES", "report_text", "report_dict", "log_line"]
