import kiln
import matplotlib.pyplot as plt
import numpy as np
import torch


class Score(kiln.Operation):
    """Accuracy of the trained classifier on the held-out examples.

    ``net`` must point at the architecture Train trained (the weights are its state).
    """

    def __init__(self, net: kiln.Architecture):
        self.net = net

    def execute(self, model, test_images, test_labels):
        net = self.net()
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
