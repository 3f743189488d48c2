"""Train ARCH-1, the paper's proposed separable network, and write one run folder.

With no arguments it trains on 3,000 synthetic faces (--data synthetic; validation and test get
600 each) for at most 200 epochs (--epochs; early stopping on the validation loss usually ends it
sooner), with Adam at learning rate 0.01 (--lr) and batches of 64: 12-16 s an epoch on 2 CPU
cores, so at most about 50 minutes. A quicker first run, 2-3 minutes (README.md, docs/training.md):

    python examples/train_arch1.py --data synthetic --epochs 10 --lr 0.001

On FER2013: python examples/train_arch1.py --data fer2013 --data-path data/fer2013.csv
Every option of examples/train.py but --arch is taken.
"""
from train import main

if __name__ == "__main__":
    main(arch="arch1", description=__doc__)
