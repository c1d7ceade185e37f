"""``trax.supervised.training``: TrainTask, EvalTask and the training Loop, on minidl's autograd.

    train_task = training.TrainTask(labeled_data=train_batches,       # an endless generator of
                                    loss_layer=tl.CrossEntropyLoss(), #   (inputs, targets, weights)
                                    optimizer=trax.optimizers.Adam(0.01),
                                    n_steps_per_checkpoint=10)
    eval_task = training.EvalTask(labeled_data=eval_batches,
                                  metrics=[tl.CrossEntropyLoss(), tl.Accuracy()])
    loop = training.Loop(model, train_task, eval_tasks=[eval_task], output_dir="~/model/")
    loop.run(n_steps=100)

One training step, as Trax defines it: the batch goes on the data stack, the
model takes its ``n_in`` items, the loss layer takes what the model left
(outputs, targets, weights) -- ``Serial(model, loss_layer)`` -- and the optimizer
moves every weight.  Here the step is minidl's: the forward pass records a
graph, ``loss.backward()`` fills each Parameter's ``.grad``, and the optimizer's
Trax rule (``trax.optimizers``) writes the new values.

What a Trax user sees is Trax's: the step counter starts at 1; at step 1 and
every ``n_steps_per_checkpoint`` steps the loop saves ``output_dir/model.pkl.gz``,
then logs ``Step      1: train CrossEntropyLoss |  0.69314718`` and runs the
eval tasks; a new Loop on the same ``output_dir`` resumes from that checkpoint
(weights, optimizer slots, step, history).  The checkpoint is minidl's
pickle-free format under Trax's file name (see ``minidl/trax/_checkpoint.py``).
"""
from __future__ import annotations

import logging
import os
import random
import time

from ...autograd import Tensor, enable_grad, no_grad
from ...backend import xp_of
from .. import _checkpoint, layers as tl, shapes
from ..fastmath import random as trax_random, tree_flatten
from ..layers.base import _is_uninitialized, unflatten_into
from ..layers.stack import to_arrays, to_stack
from . import trainer_lib
from .history import History

_logger = logging.getLogger("minidl.trax")


def _log(s, stdout=True):
    _logger.info(s)
    if stdout:
        print(s, flush=True)


class TrainTask:
    """Labeled data (an iterator of batches), the loss layer and the optimizer for training."""

    def __init__(self, labeled_data, loss_layer, optimizer, lr_schedule=None, n_steps_per_checkpoint=100,
                 n_steps_per_permanent_checkpoint=None, loss_name=None, sample_batch=None, export_prefix=None):
        self._labeled_data, self._loss_layer = labeled_data, loss_layer
        self._optimizer = optimizer() if isinstance(optimizer, type) else optimizer
        self._lr_schedule = lr_schedule
        self._sample_batch = next(labeled_data) if sample_batch is None else sample_batch
        self._n_steps_per_checkpoint = n_steps_per_checkpoint
        self._n_steps_per_permanent_checkpoint = n_steps_per_permanent_checkpoint
        self._loss_name = loss_name or loss_layer.name
        self._export_prefix = export_prefix

    labeled_data = property(lambda self: self._labeled_data)
    sample_batch = property(lambda self: self._sample_batch)
    loss_layer = property(lambda self: self._loss_layer)
    loss_name = property(lambda self: self._loss_name)
    optimizer = property(lambda self: self._optimizer)
    n_steps_per_checkpoint = property(lambda self: self._n_steps_per_checkpoint)
    n_steps_per_permanent_checkpoint = property(lambda self: self._n_steps_per_permanent_checkpoint)
    export_prefix = property(lambda self: self._export_prefix)

    def next_batch(self):
        return next(self._labeled_data)

    def learning_rate(self, step):
        """The schedule's rate at ``step``, or the optimizer's own learning_rate."""
        if self._lr_schedule is not None:
            return float(self._lr_schedule(step))
        return self._optimizer.opt_params["learning_rate"]


class EvalTask:
    """Labeled data and metric layers; each metric is averaged over ``n_eval_batches`` batches."""

    def __init__(self, labeled_data, metrics, metric_names=None, n_eval_batches=1, sample_batch=None,
                 export_prefix=None):
        self._labeled_data, self._metrics = labeled_data, list(metrics)
        self._metric_names = metric_names or [m.name for m in self._metrics]
        if len(self._metric_names) != len(self._metrics):
            raise ValueError(f"Number of metrics ({len(self._metrics)}) does not equal number of metric names "
                             f"({len(self._metric_names)}).")
        self._n_eval_batches = n_eval_batches
        self._sample_batch = next(labeled_data) if sample_batch is None else sample_batch
        self._export_prefix = export_prefix

    labeled_data = property(lambda self: self._labeled_data)
    sample_batch = property(lambda self: self._sample_batch)
    metrics = property(lambda self: self._metrics)
    metric_names = property(lambda self: self._metric_names)
    n_eval_batches = property(lambda self: self._n_eval_batches)
    export_prefix = property(lambda self: self._export_prefix)

    def next_batch(self):
        return next(self._labeled_data)


class _Trainer:
    """One train task's model-with-loss, the Parameters it trains and the optimizer's slots for them."""

    def __init__(self, model, task):
        self.model_with_loss = tl.Serial(model, task.loss_layer)
        self.optimizer = task.optimizer
        self.params = self.model_with_loss.parameters()
        self.slots = list(self.optimizer.tree_init([p.data for p in self.params])[0])

    def one_step(self, batch, step, learning_rate):
        for p in self.params:
            p.grad = None
        with enable_grad():
            loss = self.model_with_loss._apply(to_stack(batch))
        if not (isinstance(loss, Tensor) and loss.size == 1 and loss.requires_grad):
            raise TypeError(f"the loss layer must return one number that depends on the weights, got "
                            f"{_what(loss)}: a loss written with NumPy instead of trax.fastmath.numpy loses "
                            "the gradient")
        loss.backward()
        self.optimizer.opt_params["learning_rate"] = learning_rate
        grads = [p.grad if p.grad is not None else xp_of(p.data).zeros_like(p.data) for p in self.params]
        new, slots, metrics = self.optimizer.tree_update(step, grads, [p.data for p in self.params], self.slots,
                                                         self.optimizer.opt_params)
        self.slots = list(slots)
        for p, w in zip(self.params, new):
            p.data, p.grad = w, None
        return float(loss), metrics


def _what(x):
    if isinstance(x, Tensor):
        return f"a tensor of shape {tuple(x.shape)}" + ("" if x.requires_grad else " with no gradient")
    return f"a {type(x).__name__}"


def _at_step_1_and_every_nth_step(period):
    if period is None:
        return lambda step: False
    return lambda step: step == 1 or (step > 0 and step % period == 0)


class Loop:
    """Trains ``model`` on ``tasks``, evaluates on ``eval_tasks``, checkpoints in ``output_dir``."""

    def __init__(self, model, tasks, eval_model=None, eval_tasks=None, output_dir=None, checkpoint_at=None,
                 checkpoint_low_metric=None, checkpoint_high_metric=None, permanent_checkpoint_at=None,
                 eval_at=None, which_task=None, n_devices=None, random_seed=None, loss_chunk_size=0,
                 use_memory_efficient_trainer=False, adasum=False, callbacks=None):
        if n_devices not in (None, 1) or loss_chunk_size or use_memory_efficient_trainer or adasum or callbacks:
            raise NotImplementedError("the minidl facade's Loop runs on one device, without loss chunking, the "
                                      "memory-efficient trainer, adasum or callbacks")
        tasks = list(tasks) if isinstance(tasks, (list, tuple)) else [tasks]
        if not tasks:
            raise ValueError("Must provide at least one training task.")
        if eval_tasks is None:
            eval_tasks, eval_at = [], (lambda step: False)
        eval_tasks = list(eval_tasks) if isinstance(eval_tasks, (list, tuple)) else [eval_tasks]
        self._tasks, self._eval_tasks = tasks, eval_tasks
        self._model, self._eval_model = model, eval_model or model
        self._rng = (trainer_lib.init_random_number_generators(random_seed) if random_seed is not None
                     else trax_random.get_prng(random.SystemRandom().randint(0, 2 ** 31 - 1)))
        self._output_dir = None if output_dir is None else os.path.expanduser(output_dir)
        if self._output_dir is not None:
            os.makedirs(self._output_dir, exist_ok=True)
        self._step, self._history = 0, History()
        self._checkpoint_at = checkpoint_at or _at_step_1_and_every_nth_step(tasks[0].n_steps_per_checkpoint)
        self._permanent_checkpoint_at = permanent_checkpoint_at or _at_step_1_and_every_nth_step(
            tasks[0].n_steps_per_permanent_checkpoint)
        self._checkpoint_low_metric, self._checkpoint_high_metric = checkpoint_low_metric, checkpoint_high_metric
        self._eval_at = eval_at or _at_step_1_and_every_nth_step(tasks[0].n_steps_per_checkpoint)
        self._which_task = which_task or (lambda n: n % len(tasks))

        # the model takes its n_in items of a batch: that part of the signature initialises it
        self._batch_signature = shapes.signature(tuple(tasks[0].sample_batch))
        self._model.rng = self.new_rng()
        if _is_uninitialized(self._model):
            self._model.init(self._input_signature())
        self._eval_model.rng = self.new_rng()
        if _is_uninitialized(self._eval_model):
            self._eval_model.init(self._input_signature())
        self._trainers = [_Trainer(self._model, task) for task in tasks]
        self.load_checkpoint()
        names = [t.loss_name for t in tasks] + [n for e in eval_tasks for n in e.metric_names]
        self._rjust_len = max(map(len, names))
        self._evaluators = [tl.Serial(self._eval_model, tl.Branch(*e.metrics)) for e in eval_tasks]
        if self._output_dir is None:
            _log("Will not write evaluation metrics, because output_dir is None.")

    def _input_signature(self):
        sig = self._batch_signature[:self._model.n_in]
        return sig[0] if len(sig) == 1 else sig

    # --- Trax's properties
    step = property(lambda self: self._step)
    history = property(lambda self: self._history)
    model = property(lambda self: self._model)
    eval_model = property(lambda self: self._eval_model)
    tasks = property(lambda self: self._tasks)
    eval_tasks = property(lambda self: self._eval_tasks)
    output_dir = property(lambda self: self._output_dir)
    n_devices = property(lambda self: 1)
    is_chief = property(lambda self: True)

    def new_rng(self):
        """A fresh key, split off the loop's own."""
        self._rng, rng = trax_random.split(self._rng)
        return rng

    # --- training
    def run(self, n_steps=1):
        """Train for ``n_steps`` steps; checkpoint and evaluate when the schedules say so."""
        loss_acc, step_acc, start = 0.0, 0, time.time()
        metrics_acc = {}
        for _ in range(n_steps):
            self._step += 1
            task_index = self._which_task(self._step)
            task = self._tasks[task_index]
            loss, metrics = self._trainers[task_index].one_step(task.next_batch(), self._step,
                                                                 task.learning_rate(self._step))
            loss_acc, step_acc = loss_acc + loss, step_acc + 1
            for k, v in metrics.items():
                metrics_acc[k] = metrics_acc.get(k, 0.0) + v
            if self._step % 50 == 0:
                self._log_step(f"Loss: {loss:.4f}", stdout=False)
            if self._checkpoint_at(self._step):
                self.save_checkpoint("model")
            if self._permanent_checkpoint_at(self._step):
                self.save_checkpoint(f"model_{self._step}")
            if self._eval_at(self._step):
                self._log_training_progress(task, loss_acc, step_acc, time.time() - start, metrics_acc)
                self.run_evals()
                loss_acc, step_acc, start, metrics_acc = 0.0, 0, time.time(), {}
            if self._checkpoint_at(self._step):
                self._save_special_checkpoints()
        if self._eval_model is not self._model:
            self._eval_model.weights = self._model.weights

    def _log_training_progress(self, task, total_loss, n_steps, elapsed, metrics):
        n_steps = max(1, n_steps)
        _log("")
        if self._step == 1:
            n_weights = sum(w.size for w in tree_flatten(self._model.weights))
            self._log_step(f"Total number of trainable weights: {n_weights}")
        self._log_step(f"Ran {n_steps} train steps in {elapsed:0.2f} secs")
        self.log_summary({task.loss_name: total_loss / n_steps}, None, "metrics/", "train")
        params = {"learning_rate": task.learning_rate(self._step), "steps per second": n_steps / max(elapsed, 1e-9)}
        params.update({k: v / n_steps for k, v in metrics.items()})
        self.log_summary(params, None, "training/", "train", stdout=False)

    def run_evals(self, summary_writers=None):
        """Average each eval task's metrics over its n_eval_batches batches; log and record them."""
        if self._eval_model is not self._model:
            self._eval_model.weights = self._model.weights
        for task, evaluator in zip(self._eval_tasks, self._evaluators):
            sums = [0.0] * len(task.metrics)
            for _ in range(task.n_eval_batches):
                with no_grad():
                    out = to_arrays(evaluator._apply(to_stack(task.next_batch())))
                values = out if isinstance(out, tuple) else (out,)
                sums = [s + float(v) for s, v in zip(sums, values)]
            averages = {n: s / task.n_eval_batches for n, s in zip(task.metric_names, sums)}
            self.log_summary(averages, None, "metrics/", "eval")

    def log_summary(self, values, summary_writer=None, value_prefix="metrics/", log_prefix="eval", stdout=True):
        """Log ``Step   n: eval  Accuracy |  0.50000000`` lines and keep the values in the history."""
        for name, value in values.items():
            self._log_step("%s %s | % .8f" % (log_prefix.ljust(5), name.rjust(self._rjust_len), value), stdout)
            self._history.append(log_prefix, value_prefix + name, self._step, value)

    def _log_step(self, msg, stdout=True):
        _log("Step % 6d: %s" % (self._step, msg), stdout=stdout)

    def update_weights_and_state(self, weights=None, state=None):
        if weights is not None:
            self._model.weights = weights
        if state is not None:
            self._model.state = state

    # --- checkpoints
    def save_checkpoint(self, basename):
        """Write ``output_dir/<basename>.pkl.gz``: flat weights, optimizer slots, step, history, input signature."""
        if self._output_dir is None:
            _log("Did not save checkpoint as output_dir is None")
            return
        path = os.path.join(self._output_dir, basename + ".pkl.gz")
        _log(f"Saving checkpoint to {path}", stdout=False)
        flat, _ = tl.flatten_weights_and_state(self._model.weights, self._model.state)
        _checkpoint.write(path, flat, input_signature=self._input_signature(), step=self._step,
                          history=self._history.to_dict(), slots=[t.slots for t in self._trainers])
        _log(f"Checkpoint saved in {path}", stdout=False)

    def _save_special_checkpoints(self):
        for name, best in ((self._checkpoint_low_metric, min), (self._checkpoint_high_metric, max)):
            if name is not None:
                values = [v for _, v in self._history.get("eval", f"metrics/{name}")]
                if values and values[-1] == best(values):
                    self.save_checkpoint(f"{'lowest' if best is min else 'highest'}_{name}")

    def load_checkpoint(self, directory=None, filename=None):
        """Resume from ``<directory>/<filename>.pkl.gz`` (default: output_dir/model.pkl.gz) if it exists."""
        directory = directory or self._output_dir
        if directory is None:
            return
        path = os.path.join(directory, (filename or "model") + ("" if (filename or "").endswith(".pkl.gz") else ".pkl.gz"))
        if not os.path.exists(path):
            _log(f"Not loading as checkpoint file does not exist: {path}", stdout=False)
            return
        _log(f"Loading checkpoint from {path}", stdout=False)
        ckpt = _checkpoint.read(path)
        self._model.weights = unflatten_into(self._model.weights, ckpt["flat_weights"], path, self._model.name)
        if self._eval_model is not self._model:
            self._eval_model.weights = self._model.weights
        self._step = int(ckpt["step"] or 0)
        self._history = History.from_dict(ckpt["history"])
        self._restore_slots(ckpt["slots"], path)
        _log(f"Checkpoint loaded from {path}", stdout=False)

    def _restore_slots(self, saved, path):
        """Optimizer slots back, when the checkpoint has them for exactly these Parameters."""
        fits = saved is not None and len(saved) == len(self._trainers) and all(
            len(s) == len(t.params) and all(_slot_fits(x, now, p) for x, now, p in zip(s, t.slots, t.params))
            for s, t in zip(saved, self._trainers))
        if not fits:
            _log(f"{path}: no optimizer slots for this model and optimizer; they start afresh", stdout=False)
            return
        for s, t in zip(saved, self._trainers):
            t.slots = [None if x is None else tuple(xp_of(p.data).asarray(a) for a in x) for x, p in zip(s, t.params)]


def _slot_fits(saved, now, p):
    """A saved slot fits when it has the current optimizer's form (None, or that many arrays of p's shape)."""
    if saved is None or now is None:
        return saved is None and now is None
    return len(saved) == len(now) and all(tuple(a.shape) == tuple(p.shape) for a in saved)
