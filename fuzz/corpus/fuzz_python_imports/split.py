import kiln
import numpy as np


class Split(kiln.Operation):
    """Shuffles the examples and holds out a fraction of them for testing."""

    def __init__(self, test_fraction=0.2, seed=0):
        self.test_fraction = test_fraction
        self.seed = seed

    def execute(self, images, labels):
        order = np.random.default_rng(self.seed).permutation(len(images))
        n_test = int(round(len(images) * self.test_fraction))
        test, train = order[:n_test], order[n_test:]
        print(f"{len(train)} training and {len(test)} test examples")
        train_images, train_labels = images[train], labels[train]
        test_images, test_labels = images[test], labels[test]
        return train_images, train_labels, test_images, test_labels
