"""Train ARCH-1, the paper's proposed separable network: ``python examples/train_arch1.py --data fer2013``.

Takes every option of examples/train.py except --arch; see ``--help``.
"""
from train import main

if __name__ == "__main__":
    main(arch="arch1")
