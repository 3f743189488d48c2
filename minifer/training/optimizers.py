"""Adam and SGD, updating parameter Tensors in place from their ``.grad``.

Adam follows Keras: ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``, i.e. the
epsilon is added to the uncorrected sqrt(v) (PyTorch adds it to the corrected one; with
eps = 1e-7 the two agree to float32 precision unless gradients are tiny).
``learning_rate`` may be changed between steps (callbacks do).
"""
import math

import numpy

from ..backend import device_of, get_xp, to_device, to_numpy


class Optimizer:
    def __init__(self, learning_rate):
        self.learning_rate = float(learning_rate)
        self.iterations = 0
        self.slots = {}  # per-parameter state, keyed by the parameter's name

    def step(self, params):
        """Apply one update to every parameter that has a gradient."""
        self.iterations += 1
        for p in params:
            if p.grad is not None:
                self.update(p, p.grad)

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
        return {"learning_rate": self.learning_rate}

    def state_dict(self):
        """Everything a checkpoint needs to resume exactly: step count and slot arrays."""
        return {"iterations": self.iterations, "learning_rate": self.learning_rate,
                "slots": {f"{p}|{s}": to_numpy(a).copy() for (p, s), a in self.slots.items()}}  # a snapshot

    def load_state_dict(self, state):
        self.iterations = int(state["iterations"])
        self.learning_rate = float(state["learning_rate"])
        self.slots = {tuple(k.rsplit("|", 1)): numpy.array(v) for k, v in state["slots"].items()}  # own copies

    def update(self, p, g):
        raise NotImplementedError


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum, self.nesterov = float(momentum), nesterov

    def update(self, p, g):
        if self.momentum == 0:
            p.data -= self.learning_rate * g
            return
        v = self._slot(p, "momentum")
        v *= self.momentum
        v -= self.learning_rate * g
        p.data += self.momentum * v - self.learning_rate * g if self.nesterov else v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def update(self, p, g):
        xp = get_xp(p.data)
        m, v = self._slot(p, "m"), self._slot(p, "v")
        m += (1 - self.beta_1) * (g - m)
        v += (1 - self.beta_2) * (g * g - v)
        t = self.iterations
        alpha = self.learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        p.data -= alpha * m / (xp.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


def get(identifier):
    if isinstance(identifier, Optimizer):
        return identifier
    by_name = {"adam": Adam, "sgd": SGD}
    if isinstance(identifier, str) and identifier.lower() in by_name:
        return by_name[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; use Adam(...), SGD(...), 'adam' or 'sgd'")
