"""Training: the fit loop and its run state, callbacks, checkpoints, optimizers, batch sources."""
from . import callbacks, losses, metrics, optimizers, utils
from .run import History, TrainingRun
from .source import BatchSource, class_weights
from .trainer import Trainer, TrainingDiverged

__all__ = ["BatchSource", "History", "Trainer", "TrainingDiverged", "TrainingRun", "callbacks", "class_weights",
           "losses", "metrics", "optimizers", "utils"]
