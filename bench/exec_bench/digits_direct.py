#!/usr/bin/env python3
"""The digits example run directly, without Kiln: exec_bench's baseline for
training inside Kiln (bench/exec_bench.cc, part 4).

Loads the example's own operation files (examples/digits/operations/*.py) and
runs LoadDigits, Split, Train and Score in this one process with their default
attributes — the same ones the example pipeline uses — timing only Train's
execute(). Outside Kiln, kiln.log_metric / kiln.progress are no-ops.

    OMP_NUM_THREADS=1 MPLBACKEND=Agg python3 digits_direct.py SOURCE_DIR [EPOCHS]

EPOCHS > 0 overrides Train's epochs (exec_bench --train-epochs sets the same
on the pipeline's Train instance).

Prints one JSON line: train_s, accuracy, torch_threads, omp_num_threads.
"""
import importlib.util
import json
import os
import pathlib
import sys
import time


def load(path: pathlib.Path, name: str):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def main() -> None:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    sys.path.insert(0, str(root / "python"))  # the kiln package (its calls are no-ops here)
    ops = root / "examples" / "digits" / "operations"
    LoadDigits = load(ops / "load_digits.py", "LoadDigits")
    Split = load(ops / "split.py", "Split")
    Train = load(ops / "train.py", "Train")
    Score = load(ops / "score.py", "Score")
    import torch

    images, labels = LoadDigits().execute()
    train_images, train_labels, test_images, test_labels = Split().execute(images, labels)
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    train = Train(epochs=epochs) if epochs > 0 else Train()
    start = time.perf_counter()
    model = train.execute(train_images, train_labels)
    train_s = time.perf_counter() - start
    accuracy = Score().execute(model, test_images, test_labels)
    print(json.dumps({"train_s": train_s, "accuracy": accuracy,
                      "torch_threads": torch.get_num_threads(),
                      "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "")}))


if __name__ == "__main__":
    main()
