"""SGD, Adam, AdamW and RMSprop with Keras 3's update rules and defaults, updating parameter
Tensors in place from their ``.grad``.

Adam follows Keras: ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``, i.e. the
epsilon is added to the uncorrected sqrt(v) (PyTorch adds it to the corrected one; with
eps = 1e-7 the two agree to float32 precision unless gradients are tiny).
``learning_rate`` is a number, which may be changed between steps (callbacks do), or a
schedule (``schedules.py``) of the step count. ``clipnorm`` clips each gradient to that norm,
``clipvalue`` each entry to [-clipvalue, clipvalue], before the update, as in Keras.
"""
import math

import numpy

from ..backend import device_of, get_xp, to_device, to_numpy
from . import schedules  # noqa: F401  (Keras's optimizers.schedules)
from .schedules import LearningRateSchedule


class Optimizer:
    def __init__(self, learning_rate, clipnorm=None, clipvalue=None):
        if clipnorm is not None and clipvalue is not None:
            raise ValueError("give clipnorm or clipvalue, not both (Keras refuses both too)")
        for name, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue)):
            if value is not None:
                _number(name, value, low=0, open_low=True)
        self._learning_rate = learning_rate if isinstance(learning_rate, LearningRateSchedule) else \
            _number("the learning rate", learning_rate, low=0)
        self.clipnorm, self.clipvalue = clipnorm, clipvalue
        self.iterations = 0
        self.slots = {}  # per-parameter state, keyed by the parameter's name

    @property
    def learning_rate(self):
        """The rate of the next step: a schedule's value at ``iterations``, as Keras computes it."""
        rate = self._learning_rate
        return float(rate(self.iterations)) if isinstance(rate, LearningRateSchedule) else rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(f"this optimizer's learning rate is a {type(self._learning_rate).__name__} schedule, "
                            "which cannot be set (Keras refuses too); use a number to change it during training")
        self._learning_rate = _number("the learning rate", value, low=0)

    def step(self, params):
        """Apply one update to every parameter that has a gradient."""
        lr = self.learning_rate
        self.iterations += 1
        for p in params:
            if p.grad is not None:
                self.update(p, self._clip(p.grad), lr)

    def _clip(self, g):
        xp = get_xp(g)
        if self.clipnorm is not None:
            norm = float(xp.sqrt((g * g).sum()))
            return g * (self.clipnorm / norm) if norm > self.clipnorm else g
        if self.clipvalue is not None:
            return xp.clip(g, -self.clipvalue, self.clipvalue)
        return g

    def zero_grad(self, params):
        for p in params:
            p.grad = None

    def _slot(self, p, name):
        key = (p.name or str(id(p)), name)
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = get_xp(p.data).zeros_like(p.data)
        elif get_xp(slot) is not get_xp(p.data):  # loaded from a checkpoint onto another device
            slot = self.slots[key] = to_device(slot, device_of(p.data))
        return slot

    def to(self, device):
        """Move every slot to ``device`` (``Model.to`` calls this)."""
        self.slots = {key: to_device(slot, device) for key, slot in self.slots.items()}

    def get_config(self):
        rate = self._learning_rate
        if isinstance(rate, LearningRateSchedule):
            rate = {"class_name": type(rate).__name__, "config": rate.get_config()}
        return {"learning_rate": rate, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue}

    def state_dict(self):
        """Everything a checkpoint needs to resume exactly: step count, a set rate (a schedule's
        follows from the step count) and slot arrays; the class, so that another optimizer refuses it."""
        fixed = None if isinstance(self._learning_rate, LearningRateSchedule) else self._learning_rate
        return {"class": type(self).__name__, "iterations": self.iterations, "learning_rate": fixed,
                "slots": {f"{p}|{s}": to_numpy(a).copy() for (p, s), a in self.slots.items()}}  # a snapshot

    def load_state_dict(self, state):
        self.iterations = int(state["iterations"])
        if state["learning_rate"] is not None:
            self.learning_rate = state["learning_rate"]
        self.slots = {tuple(k.rsplit("|", 1)): numpy.array(v) for k, v in state["slots"].items()}  # own copies

    def snapshot(self):
        """An in-memory copy of the state, on the slots' device (to undo one step)."""
        return self.iterations, self._learning_rate, {key: slot.copy() for key, slot in self.slots.items()}

    def restore(self, snapshot):
        self.iterations, self._learning_rate, slots = snapshot
        self.slots = dict(slots)

    def update(self, p, g, lr):
        raise NotImplementedError


def _number(name, value, low, high=math.inf, open_low=False):
    """``value`` as a float if it is a finite number from ``low`` (excluded with ``open_low``) to ``high``;
    a negative or NaN rate would train backwards or poison every weight at the first step."""
    if isinstance(value, bool) or not isinstance(value, (int, float, numpy.number)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not (low < value if open_low else low <= value) or not value <= high or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number {'above' if open_low else 'from'} {low:g}"
                         f"{'' if high == math.inf else f' to {high:g}'}, got {value!r}")
    return value


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **clipping):
        super().__init__(learning_rate, **clipping)
        self.momentum, self.nesterov = _number("momentum", momentum, low=0, high=1), nesterov

    def update(self, p, g, lr):
        if self.momentum == 0:
            p.data -= lr * g
            return
        v = self._slot(p, "momentum")
        v *= self.momentum
        v -= lr * g
        p.data += self.momentum * v - lr * g if self.nesterov else v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **clipping):
        super().__init__(learning_rate, **clipping)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def update(self, p, g, lr):
        xp = get_xp(p.data)
        m, v = self._slot(p, "m"), self._slot(p, "v")
        m += (1 - self.beta_1) * (g - m)
        v += (1 - self.beta_2) * (g * g - v)
        t = self.iterations
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        p.data -= alpha * m / (xp.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): Keras first shrinks every weight by
    ``lr * weight_decay``, then takes the Adam step; no L2 term enters the gradient."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **clipping):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **clipping)
        self.weight_decay = float(weight_decay)

    def update(self, p, g, lr):
        p.data -= p.data * (lr * self.weight_decay)
        super().update(p, g, lr)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    """Keras 3's RMSprop: ``w -= lr * g / sqrt(ms + eps)`` with ``ms`` the moving mean of g^2 (minus
    the squared moving mean of g when ``centered``); with ``momentum`` the steps accumulate."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **clipping):
        super().__init__(learning_rate, **clipping)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), centered

    def update(self, p, g, lr):
        xp = get_xp(p.data)
        ms = self._slot(p, "velocity")
        ms += (1 - self.rho) * (g * g - ms)
        denominator = ms + self.epsilon
        if self.centered:
            mg = self._slot(p, "average_gradient")
            mg += (1 - self.rho) * (g - mg)
            denominator = denominator - mg * mg
        increment = lr * g / xp.sqrt(denominator)
        if self.momentum > 0:
            step = self._slot(p, "momentum")
            step *= self.momentum
            step += increment
            increment = step
        p.data -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


BY_NAME = {"adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "sgd": SGD}


def get(identifier):
    """An optimizer from an object, a Keras name ("adam", "adamw", "rmsprop", "sgd") with Keras's defaults,
    or a saved ``{"class_name", "config"}``."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in BY_NAME:
        return BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and identifier.get("class_name", "").lower() in BY_NAME:  # a saved config
        return BY_NAME[identifier["class_name"].lower()](**identifier.get("config", {}))
    raise ValueError(f"unknown optimizer {identifier!r}; use an object or one of {sorted(BY_NAME)}")
