"""Many trials of one scenario: how they are cut, seeded, played, counted and written.

:mod:`~escalation.engine.blocks` cuts the trials into blocks with streams spawned from the seed
and plays them; :mod:`~.executors` runs tasks in this process, in worker processes
(:mod:`~.workers`) or on a Dask cluster; :mod:`~.play` plays a run, in memory or streamed
block by block into the counts of :mod:`~.accumulate` (trials written as a dataset by
:mod:`~.dataset`); :mod:`~.memory` refuses a run that would not fit before allocating;
:mod:`~.results` holds a run's result, and :mod:`~.folders` writes results folders whole or
not at all; :mod:`~.labels`, :mod:`~.assumptions` and :mod:`~.run_report` say in words what a
run assumed and found.
"""
