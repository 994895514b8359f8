import kiln
import matplotlib.pyplot as plt
import torch
from torch import nn


class Train(kiln.Operation):
    """Trains a small convolutional classifier with a live loss curve."""

    def __init__(self, epochs=15, learning_rate=0.003, batch_size=64, channels=16, seed=0):
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.channels = channels
        self.seed = seed

    def execute(self, train_images, train_labels):
        torch.manual_seed(self.seed)
        c = self.channels
        model = nn.Sequential(
            nn.Conv2d(1, c, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(c, 2 * c, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * c * 4 * 4, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )
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
