import kiln
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn


class Score(kiln.Operation):
    """Accuracy of the trained classifier on the held-out examples."""

    def __init__(self, channels=16):
        self.channels = channels

    def execute(self, model, test_images, test_labels):
        c = self.channels
        net = nn.Sequential(
            nn.Conv2d(1, c, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(c, 2 * c, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * c * 4 * 4, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )
        net.load_state_dict(model)
        net.eval()
        with torch.no_grad():
            predicted = net(torch.from_numpy(test_images).unsqueeze(1)).argmax(dim=1).numpy()
        accuracy = float((predicted == test_labels).mean())
        kiln.log_metric("accuracy", accuracy)
        print(f"accuracy on {len(test_labels)} test images: {accuracy:.3f}")

        confusion = np.zeros((10, 10), dtype=int)
        for truth, guess in zip(test_labels, predicted):
            confusion[truth, guess] += 1
        plt.figure()
        plt.imshow(confusion, cmap="Blues")
        plt.xlabel("predicted digit")
        plt.ylabel("true digit")
        plt.title(f"Confusion matrix (accuracy {accuracy:.1%})")
        plt.colorbar()
        plt.show()
        return accuracy
