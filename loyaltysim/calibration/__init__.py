"""Purchase logs -> fitted buy-till-you-die models -> a scenario of the business's customers.

Pure: reading the log is allowed, nothing is written and nothing is drawn (that is
:mod:`loyaltysim.workflows.calibrate`'s). The pieces: :mod:`.log` (reading and checking),
:mod:`.rfm` (counting into frequency, recency and T), :mod:`.btyd` (BG/NBD, Pareto/NBD and
Gamma-Gamma fits), :mod:`.backtest` (holdout predictions and metrics), :mod:`.agents` (the
log's customers as the model's agents) and :mod:`.to_scenario` (fit to scenario).
"""
