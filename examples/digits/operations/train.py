import kiln
import matplotlib.pyplot as plt
import torch
from torch import nn


class Train(kiln.Operation):
    """Trains a convolutional classifier with a live loss curve.

    The network is the project's DigitsCNN architecture (the pointer ``net``):
    edit it in the architecture editor and this job reruns with the new layers.
    """

    def __init__(self, net: kiln.Architecture, epochs=15, learning_rate=0.003, batch_size=64,
                 seed=0):
        self.net = net
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.seed = seed

    def execute(self, train_images, train_labels):
        torch.manual_seed(self.seed)
        model = self.net()  # the architecture's generated nn.Module class
        x = torch.from_numpy(train_images).unsqueeze(1)
        y = torch.from_numpy(train_labels)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
        loss_fn = nn.CrossEntropyLoss()
        losses = []
        step = 0
        for epoch in range(self.epochs):
            order = torch.randperm(len(x))
            total = 0.0
            for start in range(0, len(x), self.batch_size):
                batch = order[start:start + self.batch_size]
                optimizer.zero_grad()
                loss = loss_fn(model(x[batch]), y[batch])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
                step += 1
                kiln.log_metric("batch_loss", loss.item(), step)
            epoch_loss = total / len(x)
            losses.append(epoch_loss)
            kiln.log_metric("loss", epoch_loss, epoch + 1)
            kiln.progress(epoch + 1, self.epochs)
            print(f"epoch {epoch + 1}/{self.epochs}: loss {epoch_loss:.4f}")

        plt.figure()
        plt.plot(range(1, len(losses) + 1), losses, label="training loss")
        plt.xlabel("epoch")
        plt.ylabel("cross-entropy")
        plt.title("Training loss")
        plt.legend()
        plt.show()
        model = model.state_dict()
        return model
