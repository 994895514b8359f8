"""Kiln's Python side: the API operations use, and the job runtime behind it.

Inside an operation::

    import kiln

    class Train(kiln.Operation):          # optional base class
        def __init__(self, epochs: int = 10, lr: float = 1e-3):
            self.epochs, self.lr = epochs, lr

        def execute(self, data):
            for epoch in range(self.epochs):
                ...
                kiln.log_metric("loss", loss)          # step defaults to 0, 1, 2...
                kiln.progress(epoch + 1, self.epochs)
            plt.plot(xs, ys); plt.show()               # streamed as a figure
            return model, loss                         # outputs "model" and "loss"

Outside Kiln the same file runs unchanged (these calls are no-ops).

A constructor argument annotated ``kiln.Architecture`` is a reference to an
architecture of the project, not an attribute: the job passes the generated
``nn.Module`` class (docs/libraries.md)::

    class Train(kiln.Operation):
        def __init__(self, net: kiln.Architecture, epochs: int = 10):
            self.net, self.epochs = net, epochs

        def execute(self, images, labels):
            model = self.net()

Modules: ``kiln.interface`` (interface <-> code), ``kiln.serializers``,
``kiln.runtime`` (events), ``kiln.mpl_backend``, ``kiln.job`` (runs a bundle),
``kiln.zygote`` (warm worker).  Importing ``kiln`` is cheap: it imports neither
torch, numpy nor matplotlib.

Outside a job, ``kiln.Client`` talks to a Kiln server (``kiln.client``,
docs/python-client.md); it is imported on first use, so jobs never pay for
``http.client``.
"""
from .runtime import Architecture, Operation, log_metric, progress

# Not the client's names: `from kiln import *` in an operation stays cheap.
__all__ = ["Architecture", "Operation", "log_metric", "progress"]
__version__ = "0.1.0"

_CLIENT_NAMES = ("Client", "KilnError", "PatchBuilder", "Execution")


def __getattr__(name):
    # PEP 562: `from kiln import Client` imports kiln.client only then.
    if name in _CLIENT_NAMES:
        from . import client
        return getattr(client, name)
    raise AttributeError(f"module 'kiln' has no attribute {name!r}")
