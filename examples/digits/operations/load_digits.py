import kiln
from sklearn.datasets import load_digits


class LoadDigits(kiln.Operation):
    """Loads scikit-learn's handwritten digits: 1,797 grey images of 8x8 pixels.

    The data ships inside scikit-learn, so nothing is downloaded.
    """

    def execute(self):
        data = load_digits()
        images = (data.images / 16.0).astype("float32")  # pixel values 0..16 → 0..1
        labels = data.target.astype("int64")
        print(f"loaded {len(images)} images of {images.shape[1]}x{images.shape[2]} pixels")
        return images, labels
