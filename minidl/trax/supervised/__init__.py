"""``trax.supervised``: ``training`` (TrainTask, EvalTask, Loop), ``trainer_lib``, ``lr_schedules`` (= ``trax.lr``)."""
from . import history, lr_schedules, trainer_lib, training  # noqa: F401
