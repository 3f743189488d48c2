"""fit and train_on_batch for Models, Keras style, with exact resumption (compile, evaluate
and predict are in ``evaluation.py``).

``Trainer`` is the half of ``minifer.Model`` that trains: it needs only a model's call,
weights and losses, so it sits below the Model class that inherits it (Keras's own layout).
A batch's randomness (shuffle order, augmentation) comes from the data source's generators of
(seed, epoch) and of the step's position, and dropout's from a generator of the step's position
and rank; a checkpoint stores the run (``run.py``), so a resumed fit continues bit for bit.
"""
import math
import time
import warnings

import numpy

from .. import functional as F
from .. import random
from ..autograd import no_grad
from ..backend import get_xp, to_numpy
from .adapters import PRECISE_BN_IMAGES, adapt, streamed, unpack
from .arguments import check_fit_arguments
from .distribute import (SOLO, agree, average, broadcast_weights, check_same_weights, one_voice, reduce_step,
                         sum_in_order)
from .evaluation import Evaluator, format_logs, progress, verbosity, write_line
from .interrupt import StopOnInterrupt, interrupted
from .run import TrainingRun, layers_with
from .source import BatchSource
from .structure import leaves, length, take


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message says where."""


class Trainer(Evaluator):
    """Adds Keras's training API to ``minifer.Model``."""

    stop_training = False
    interrupted = False  # whether the last fit stopped on Ctrl-C (a resumable checkpoint was written)
    history = None

    # -- one batch ---------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One update; returns the batch's loss and metrics (computed in the forward pass before the
        update) shaped as ``evaluate``'s, as Keras does."""
        self._require_compiled("train_on_batch")
        loss, sums = self._train_step(x, y, sample_weight)[:2]
        return self._batch_result(loss, sums, x, return_dict)

    def _train_step(self, x, y, sample_weight, comm=SOLO, stop=False):
        """One update; returns (mean loss, metric sums, samples, stop). A step that fails (a bad
        label, a loss or a result in any weight, BatchNorm statistic or optimizer slot that is not
        finite) is undone whole, so what training keeps is always finite; a non-finite one raises
        TrainingDiverged. With several processes (``comm``) each trains on its share of the step's
        samples (none, in a short last step) and one allreduce sums the gradients, the figures and
        the flags, so every process applies the same update and agrees on stopping
        (``distribute.reduce_step``)."""
        params = self.trainable_weights
        before = self._snapshot()
        try:
            self.optimizer.zero_grad(params)
            n = 0 if x is None else length(x)
            value, sums, differentiable = 0.0, [0.0] * (len(self.metrics_names) - 1), True
            if n:
                loss, sums = self._loss(x, y, sample_weight, training=True)
                value, differentiable = float(loss.data), loss.requires_grad
                if math.isfinite(value) and differentiable:
                    loss.backward()
            finite = math.isfinite(value)
            if comm.size > 1:
                value, sums, n, stop, finite = reduce_step(comm, params, n, value, sums, stop, finite)
            if finite and differentiable:
                self.optimizer.step(params)
            elif finite:
                warnings.warn(f"model '{self.name}' has no trainable weights: training changes only BatchNorm "
                              "statistics (Keras warns the same)", stacklevel=3)
            problem = f"the loss became {value}" if not finite else self._non_finite_weights()
            if problem:
                raise TrainingDiverged(problem)
        except BaseException:
            self._restore(before)
            raise
        return value, sums, n, stop

    def _snapshot(self):
        return [w.data.copy() for w in self.weights], self.optimizer.snapshot()

    def _restore(self, snapshot):
        arrays, state = snapshot
        for weight, array in zip(self.weights, arrays):
            weight.data = array
        self.optimizer.restore(state)

    def _non_finite_weights(self):
        """'' if every weight and optimizer slot (Adam's ``v`` overflows while the weights stay finite)
        is finite, else which are not (one device sync, not one per array)."""
        named = [(w.name, w.data) for w in self.weights]
        if self.optimizer is not None:
            named += [(f"optimizer slot {name}|{slot}", a) for (name, slot), a in self.optimizer.slots.items()]
        xp = get_xp(named[0][1]) if named else numpy
        flags = to_numpy(xp.stack([xp.isfinite(a).all() for _, a in named])) if named else []
        bad = [name for (name, _), ok in zip(named, flags) if not ok]
        return f"the update made {', '.join(bad[:3])}{' and others' if len(bad) > 3 else ''} non-finite" if bad else ""

    def recompute_batchnorm(self, x, max_images=PRECISE_BN_IMAGES, batch_size=256, distribute=None):
        """Set every BatchNormalization's moving statistics to the exact statistics of ``x`` (at most
        ``max_images`` of it, a fixed spread-out subset) under the current weights: one training-mode
        forward pass without gradients, with dropout masks from a throwaway generator per batch. With
        several processes each takes every size-th of one process's batches and their sums are
        added, so every process sets the statistics one process computes (to float64 rounding)."""
        comm = distribute or SOLO
        n = min(length(x), max_images)
        if n == 0:
            return
        chosen = numpy.sort(numpy.random.default_rng(0).permutation(length(x))[:n])
        moving = [(layer.moving_mean, layer.moving_variance) for layer in layers_with(self, "moving_variance")]
        reduce = None if comm.size == 1 else lambda totals: sum_in_order(comm, totals)
        with no_grad(), F.population_statistics(moving, reduce):
            for b, s in enumerate(range(0, n, batch_size)):  # whole batches, dealt out: one process's batches
                if b % comm.size == comm.rank:
                    with random.using(numpy.random.default_rng([0, b])):
                        self(take(x, chosen[s:s + batch_size]), training=True)
        problem = self._non_finite_weights()
        if problem:
            raise TrainingDiverged(f"re-estimating the BatchNorm statistics: {problem}")

    # -- fit -------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1, seed=0,
            augmenter=None, resume=None, precise_bn=True, distribute=None):
        """Train, with Keras's arguments; ``x`` is an image array (with labels ``y``), a
        ``BatchSource``, a generator of (x, y[, w]) batches or a Keras-style Sequence
        (``adapters.adapt`` turns each into the same batch source). ``verbose``: 0 silent,
        1 a progress bar and a line per epoch, 2 the line only.

        With ``precise_bn`` (the default) every epoch ends by re-estimating the BatchNorm
        statistics over up to ``PRECISE_BN_IMAGES`` training images with the epoch's final weights
        (``recompute_batchnorm``), so validation, checkpoints and the trained model use statistics
        that match their weights; Keras's moving averages lag far behind after a short run.

        ``seed`` fixes the shuffle order, the augmentation and the dropout masks of this fit
        (from generators of its own: the global ``minifer.random`` generator is left alone).
        ``resume`` is a checkpoint written by ``ModelCheckpoint`` (or by Ctrl-C): training
        continues from its epoch and batch exactly as if it had never stopped.

        ``distribute``: a communicator from ``minifer.distributed.init()``; every process calls fit
        alike, each step takes ``batch_size`` samples per process, and only rank 0 prints and writes
        (docs/distributed.md).
        """
        self._require_compiled("fit")
        comm = distribute or SOLO
        verbose = verbosity(verbose) * comm.is_chief
        check_fit_arguments(batch_size, epochs, initial_epoch, steps_per_epoch, validation_steps,
                            validation_batch_size, validation_freq, class_weight, sample_weight)
        if validation_split and validation_data is None:
            x, y, sample_weight, validation_data = _split(x, y, sample_weight, validation_split)
        source = adapt(x, y, sample_weight, batch_size, shuffle, seed, class_weight, augmenter, steps_per_epoch)
        if resume is not None and streamed(source):
            warnings.warn("resuming from a generator is not exact: a generator cannot be read again from the start, "
                          "so the resumed run trains on the batches it gives from now on; give arrays, a "
                          "BatchSource or a Sequence for an exact resume", stacklevel=2)
        run = TrainingRun(self, callbacks, seed, comm)
        self.history = run.history  # a resumed fit reloads the earlier epochs into it
        self.stop_training = self.interrupted = False
        if resume is not None:
            run.restore(resume, resumes_anywhere=isinstance(source, BatchSource))
            if isinstance(source, BatchSource):  # the step number in this run's steps, from the samples done
                run.batch = -(-run.running[2] // (source.batch_size * comm.size))
        else:
            run.advance(initial_epoch, 0)
        broadcast_weights(comm, self.weights)  # every process starts from rank 0's weights
        for cb in run.callbacks:
            cb.on_train_begin({})
        start_epoch, start = run.epoch, (run.batch, run.running[2])
        with StopOnInterrupt() as interrupt, one_voice(comm):
            for epoch in range(start_epoch, epochs):
                for cb in run.callbacks:
                    cb.on_epoch_begin(epoch, {})
                logs = self._train_epoch(run, source, epoch, epochs, start if epoch == start_epoch else (0, 0),
                                         interrupt, verbose)
                if logs is None:  # interrupted: a resumable checkpoint has been written
                    self.interrupted = True
                    break
                if not logs:  # a generator ran dry
                    break
                self._end_epoch(run, source, epoch, precise_bn, validation_data, validation_freq,
                                validation_batch_size, validation_steps, logs)
                for cb in run.callbacks:
                    cb.on_epoch_end(epoch, logs)
                if verbose:
                    write_line(f"Epoch {epoch + 1}/{epochs} - {logs['time']:.1f}s - {format_logs(logs)}")
                if agree(comm, interrupt.requested):  # Ctrl-C after the last batch, in validation or a checkpoint
                    self.interrupted = True
                    interrupted(run, epoch, None)
                    break
                if agree(comm, self.stop_training):
                    break
        for cb in run.callbacks:
            cb.on_train_end({})
        return self.history

    def _end_epoch(self, run, source, epoch, precise_bn, validation_data, validation_freq, validation_batch_size,
                   validation_steps, logs):
        """BatchNorm statistics for the epoch's weights, validation, and (with several processes) the
        check that every process holds the same weights; the run moves to the next epoch."""
        comm = run.comm
        if precise_bn:
            self.recompute_batchnorm(source.images(PRECISE_BN_IMAGES), distribute=comm)
        else:  # each process's moving averages saw its own batches: keep their mean everywhere
            average(comm, [t for layer in layers_with(self, "moving_variance")
                           for t in (layer.moving_mean, layer.moving_variance)])
        if validation_data is not None and _validation_due(epoch, validation_freq):
            vx, vy, vw = unpack(validation_data)
            val = self.evaluate(vx, vy, validation_batch_size, verbose=0, sample_weight=vw, steps=validation_steps,
                                return_dict=True, distribute=comm)
            logs.update({f"val_{k}": v for k, v in val.items()})
        logs["lr"] = self.optimizer.learning_rate
        if comm.size > 1:
            check_same_weights(comm, self.weights, f"after epoch {epoch + 1}")
        run.advance(epoch + 1, 0)

    def _train_epoch(self, run, source, epoch, epochs, done, interrupt, verbose):
        """Train one epoch after ``done`` = (steps, samples); its logs, None when interrupted, {} when
        the input ran dry. Dropout masks come from a generator of the step's position (and the
        process's rank), so a resumed run draws what an uninterrupted one would."""
        comm = run.comm
        loss_sum, sums, seen = run.running if done[0] else (0.0, [0.0] * (len(self.metrics_names) - 1), 0)
        bar = progress(total=source.steps(comm.size), initial=done[0], desc=f"Epoch {epoch + 1}/{epochs}",
                       unit="batch", leave=False, disable=verbose != 1)
        start = time.perf_counter()
        for batch, (xb, yb, wb) in enumerate(source.epoch(epoch, done, comm), start=done[0]):
            for cb in run.callbacks:
                cb.on_train_batch_begin(batch, {})
            try:
                with random.using(numpy.random.default_rng([run.seed, epoch, seen, comm.rank])):
                    value, batch_sums, n, stop = self._train_step(xb, yb, wb, comm, interrupt.requested)
            except TrainingDiverged as error:
                bar.close()
                for cb in run.callbacks:  # a diverged step, as Keras would log it: TerminateOnNaN may stop quietly
                    cb.on_train_batch_end(batch, {"loss": float("nan")})
                if self.stop_training:
                    return {}
                raise TrainingDiverged(
                    f"{error} at epoch {epoch + 1}, batch {batch + 1}; that update was undone, training stopped, "
                    "and the last checkpoint written (if any) was kept. Try a lower learning rate or weaker L2.") from None
            loss_sum, seen = loss_sum + value * n, seen + n
            sums = [a + b for a, b in zip(sums, batch_sums)]
            run.advance(epoch, batch + 1, (loss_sum, sums, seen))
            logs = self._logs(loss_sum, sums, seen)  # running means over the epoch, as Keras reports them
            for cb in run.callbacks:
                cb.on_train_batch_end(batch, logs)
            bar.update(1)
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            if stop or (comm.size == 1 and interrupt.requested):
                bar.close()
                interrupted(run, epoch, batch)
                return None
        bar.close()
        if seen == 0:
            warnings.warn(f"the input ran out of data at epoch {epoch + 1}: training stopped (Keras stops too); "
                          "give a generator that repeats, or steps_per_epoch * epochs batches", stacklevel=3)
            return {}
        return {**self._logs(loss_sum, sums, seen), "time": time.perf_counter() - start}


def _split(x, y, sample_weight, fraction):
    """Keras's validation_split: the last ``fraction`` of the arrays, taken before any shuffling."""
    if not (all(hasattr(a, "shape") for a in leaves(x)) and y is not None):
        raise ValueError("validation_split needs arrays x and y; give a generator's validation data as validation_data")
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split must lie in (0, 1), got {fraction}")
    n = length(x)
    at = int(n * (1 - fraction))
    head, tail = numpy.arange(at), numpy.arange(at, n)
    weights = (None, None) if sample_weight is None else (sample_weight[:at], sample_weight[at:])
    return take(x, head), take(y, head), weights[0], (take(x, tail), take(y, tail), weights[1])



def _validation_due(epoch, freq):
    """Keras's validation_freq: every ``freq`` epochs, or the (1-based) epochs listed."""
    return (epoch + 1) % freq == 0 if isinstance(freq, int) else epoch + 1 in freq

