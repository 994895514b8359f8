"""TrainValidate: the Inception network as a classifier over redshift bins.

As in Pasquet et al. 2019: z in [0, z_max) is cut into ``n_bins`` bins, the network
(the project's architecture, pointer ``net``) ends in a softmax over them, the loss is
the cross-entropy against the true bin, and the redshift estimate is the expectation
over the bins' probabilities (Σ p_k · centre_k). A seeded ``validation_fraction`` of
the galaxies is held out; both losses are logged per epoch (live curves), the batches
are flipped and rotated by multiples of 90° at random (a galaxy has no up).

Outputs: ``model`` (the state dict), and for the validation galaxies ``val_index``
(their rows in ``cubes``), ``z_true``, ``z_pred`` and ``pdf`` [N, n_bins].
"""
import matplotlib.pyplot as plt
import numpy as np
import torch

import kiln


def bin_probabilities(model, cubes, batch_size=256):
    """The model's softmax output, in batches, without gradients."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(cubes[s:s + batch_size])
                          for s in range(0, len(cubes), batch_size)])


class TrainValidate(kiln.Operation):
    """Trains the Inception network on redshift bins with live train and validation
    losses; the estimate is the expectation over the bins."""

    def __init__(self, net: kiln.Architecture, epochs=10, batch_size=32, learning_rate=0.003,
                 validation_fraction=0.2, n_bins=32, z_max=0.4, seed=0):
        self.net = net
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.n_bins = n_bins
        self.z_max = z_max
        self.seed = seed

    def execute(self, cubes, redshifts):
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got "
                             f"{self.validation_fraction}")
        torch.manual_seed(self.seed)
        np.random.seed(self.seed)
        order = np.random.default_rng(self.seed).permutation(len(cubes))
        n_val = max(1, int(round(len(cubes) * self.validation_fraction)))
        val_index, train_index = np.sort(order[:n_val]), order[n_val:]
        x = torch.from_numpy(np.ascontiguousarray(cubes))
        z = torch.from_numpy(np.asarray(redshifts, dtype=np.float32))
        edges = torch.linspace(0.0, self.z_max, self.n_bins + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        labels = torch.bucketize(z, edges[1:-1], right=True)  # z ≥ z_max → the last bin

        model = self.net()
        optimizer = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, self.epochs))
        # The network ends in a softmax: cross-entropy is the NLL of its log.
        def loss_of(p, y):
            return torch.nn.functional.nll_loss(torch.log(p.clamp_min(1e-8)), y)

        x_train, y_train = x[train_index], labels[train_index]
        x_val, y_val = x[val_index], labels[val_index]
        generator = torch.Generator().manual_seed(self.seed)
        history = {"train": [], "validation": []}
        print(f"{len(train_index)} training and {len(val_index)} validation galaxies, "
              f"{sum(p.numel() for p in model.parameters()):,} parameters")
        for epoch in range(self.epochs):
            model.train()
            total = 0.0
            perm = torch.randperm(len(x_train), generator=generator)
            for start in range(0, len(perm), self.batch_size):
                batch = perm[start:start + self.batch_size]
                xb = x_train[batch]
                k = int(torch.randint(4, (1,), generator=generator))
                xb = torch.rot90(xb, k, dims=(2, 3))
                if torch.rand(1, generator=generator) < 0.5:
                    xb = torch.flip(xb, dims=(3,))
                optimizer.zero_grad()
                loss = loss_of(model(xb), y_train[batch])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            schedule.step()
            train_loss = total / len(x_train)
            val_loss = loss_of(bin_probabilities(model, x_val), y_val).item()
            history["train"].append(train_loss)
            history["validation"].append(val_loss)
            kiln.log_metric("train_loss", train_loss, epoch + 1)
            kiln.log_metric("validation_loss", val_loss, epoch + 1)
            kiln.progress(epoch + 1, self.epochs)
            print(f"epoch {epoch + 1}/{self.epochs}: train loss {train_loss:.3f}, "
                  f"validation loss {val_loss:.3f}")

        pdf = bin_probabilities(model, x_val)
        z_pred = (pdf * centres).sum(dim=1).numpy().astype(np.float32)
        z_true = z[val_index].numpy()
        pdf = pdf.numpy().astype(np.float32)
        print(f"validation: mean |Δz| = {np.mean(np.abs(z_pred - z_true)):.4f}")

        epochs = range(1, self.epochs + 1)
        plt.figure()
        plt.plot(epochs, history["train"], label="training")
        plt.plot(epochs, history["validation"], label="validation")
        plt.xlabel("epoch")
        plt.ylabel(f"cross-entropy over {self.n_bins} bins")
        plt.title("Loss")
        plt.legend()
        plt.show()
        model = model.state_dict()
        val_index = val_index.astype(np.int64)
        return model, val_index, z_true, z_pred, pdf
