"""``diffrast batch``: many jobs on a Ray cluster (issue 15): the job list (jobs.py), the Ray
tasks (runner.py), JSON and JUnit summaries (reports.py). Ray is the optional extra
``diffrast[batch]``."""
