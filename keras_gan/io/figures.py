"""Figures: sample grids, loss and score curves, comparisons and animations, written as PNG (or GIF).

Drawn through matplotlib's object API (`matplotlib.figure.Figure`, which renders with the Agg
canvas), never `pyplot`: nothing here changes the user's matplotlib backend or keeps a figure open,
so importing the package leaves a notebook's plotting as it was.
"""

import math

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from keras_gan.errors import RunFileError, reason
from keras_gan.io.atomic import atomic_path


def _subplots(rows: int, cols: int, figsize, **kwargs):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **kwargs)


def _save(fig, path: str) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")


def to_images(flat: np.ndarray, image_shape) -> np.ndarray:
    """Values in [-1, 1] (flat or not) to float images in [0, 1] of shape (N, H, W, C)."""
    return np.clip((np.asarray(flat).reshape((-1, *image_shape)) + 1.0) / 2.0, 0.0, 1.0)


def sample_grid(samples: np.ndarray, image_shape, path: str, *, rows: int, cols: int,
                title: str = "") -> None:
    """A rows x cols grid of generated images, as the slide deck's 4x6 figure."""
    images = to_images(samples, image_shape)
    fig, axes = _subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1 + (0.4 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            im = images[i]
            ax.imshow(im[..., 0] if im.shape[-1] == 1 else im, cmap="gray", vmin=0, vmax=1)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    _save(fig, path)


LOSS_LABELS = {"d_loss": "Discriminator", "g_loss": "Generator", "d_a_loss": "D_A", "d_b_loss": "D_B"}


def loss_curves(panels, path: str, *, steps_per_epoch: int | None = None, title: str = "") -> None:
    """Losses at every step, with per-epoch means on top when the epoch length is known. `panels`:
    [(y label, {loss name: values per step})], one plot each, one above the other."""
    fig, axes = _subplots(len(panels), 1, figsize=(9, 1.0 + 3.5 * len(panels)), squeeze=False, sharex=True)
    for (ylabel, series), ax in zip(panels, axes[:, 0]):
        for i, (name, values) in enumerate(series.items()):
            color, label = f"C{i}", LOSS_LABELS.get(name, name)
            steps = np.arange(1, len(values) + 1)
            ax.plot(steps, values, lw=0.5, alpha=0.45, color=color, label=f"{label} (step)")
            if steps_per_epoch and len(values) >= steps_per_epoch:
                n = len(values) // steps_per_epoch
                means = np.asarray(values[: n * steps_per_epoch]).reshape(n, steps_per_epoch).mean(axis=1)
                ax.plot(np.arange(1, n + 1) * steps_per_epoch, means, "o-", ms=3, color=color,
                        label=f"{label} (epoch mean)")
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper right", fontsize=8, ncol=2 if len(series) > 3 else 1)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("training step")
    axes[0, 0].set_title(title or "GAN losses")
    _save(fig, path)


def metric_curves(evals: list[dict], path: str, *, columns, title: str = "", feature_network: str = "") -> None:
    """One panel per column (a metric's headline number, `keras_gan.metrics.registry.Column`) against
    epochs, from a run's periodic evaluations; a `KEY_std` beside a number is drawn as error bars."""
    epochs = [e["epoch"] for e in evals]
    columns = [c for c in columns if all(c.key in e for e in evals)]
    fig, axes = _subplots(1, max(1, len(columns)), figsize=(5 * max(1, len(columns)), 3.8), squeeze=False)
    colors = ("tab:purple", "tab:green", "tab:red", "tab:blue", "tab:orange", "tab:brown")
    for i, (ax, column) in enumerate(zip(axes.flat, columns)):
        values = np.array([e[column.key] for e in evals], dtype=float)
        std = np.array([e[column.key + "_std"] for e in evals]) if all(column.key + "_std" in e for e in evals) else None
        ax.errorbar(epochs, values, yerr=std, fmt="o-", ms=3, color=colors[i % len(colors)], capsize=2)
        ax.set_ylabel(column.label + (f" ({column.better} is better)" if column.better else ""))
    for ax in axes.flat:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.suptitle((title or "Scores during training") + (f"\nfeatures: {feature_network}" if feature_network else ""),
                 fontsize=10)
    _save(fig, path)


def comparison(columns, path: str, *, title: str = "") -> None:
    """Images side by side, one column per method with its name on top: `columns` is
    [(name, images in [-1, 1] (N, H, W, C))], each with the same N, which is the number of rows."""
    rows = len(columns[0][1])
    height = rows * 1.3 + (0.6 if title else 0.3)
    fig, axes = _subplots(rows, len(columns), figsize=(len(columns) * 1.3, height), squeeze=False)
    for j, (name, images) in enumerate(columns):
        axes[0, j].set_title(name, fontsize=8)
        for i, im in enumerate(to_images(images, np.shape(images)[1:])):
            axes[i, j].axis("off")
            axes[i, j].imshow(im[..., 0] if im.shape[-1] == 1 else im, cmap="gray", vmin=0, vmax=1)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, top=1 - (0.6 if title else 0.3) / height)
    _save(fig, path)


def tile(samples: np.ndarray, image_shape, rows: int, cols: int) -> np.ndarray:
    """A rows x cols grid of images as one (rows*H, cols*W, C) float image in [0, 1] (for TensorBoard)."""
    images = to_images(samples, image_shape)[: rows * cols]
    h, w, c = images.shape[1:]
    grid = np.ones((rows * cols, h, w, c), np.float32)
    grid[: len(images)] = images
    return grid.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)


def interpolation(rows: np.ndarray, image_shape, path: str, *, title: str = "") -> None:
    """Rows of images along straight lines between two noise vectors (seeds/004's figure)."""
    n_rows, n_steps = rows.shape[:2]
    images = to_images(rows.reshape((n_rows * n_steps, -1)), image_shape)
    fig, axes = _subplots(n_rows, n_steps, figsize=(n_steps * 0.9, n_rows * 0.9 + (0.4 if title else 0)),
                          squeeze=False)
    for ax, im in zip(axes.flat, images):
        ax.axis("off")
        ax.imshow(im[..., 0] if im.shape[-1] == 1 else im, cmap="gray", vmin=0, vmax=1)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(wspace=0.03, hspace=0.03)
    _save(fig, path)


def walk(rows: np.ndarray, image_shape, path: str, *, seconds_per_frame: float = 0.12, zoom: int = 4) -> None:
    """An animated GIF of interpolation paths: frame t shows every row's image at step t, in a grid, and
    the animation walks forward and back so that it loops without a jump."""
    n_rows, n_steps = rows.shape[:2]
    cols = math.ceil(math.sqrt(n_rows))
    grid_rows = math.ceil(n_rows / cols)
    frames = []
    for t in list(range(n_steps)) + list(range(n_steps - 2, 0, -1)):
        grid = tile(rows[:, t].reshape((n_rows, -1)), image_shape, grid_rows, cols)
        pixels = np.round(np.clip(grid, 0, 1) * 255).astype(np.uint8)
        pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
        image = Image.fromarray(pixels)
        frames.append(image.resize((image.width * zoom, image.height * zoom), Image.NEAREST).convert("RGB"))
    with atomic_path(path, suffix=".gif") as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:],
                       duration=int(seconds_per_frame * 1000), loop=0)


def nearest_pairs(generated: np.ndarray, training: np.ndarray, distances, threshold: float, path: str, *,
                  title: str = "") -> None:
    """Generated images (top row) above their nearest training images (bottom row), each pair with its
    distance; a pair closer than `threshold` (a duplicate, for the CID index) is titled in red."""
    n = len(generated)
    fig, axes = _subplots(2, n, figsize=(n * 1.2, 3.0 + (0.4 if title else 0)), squeeze=False)
    for j in range(n):
        for row, images in enumerate((generated, training)):
            ax = axes[row, j]
            ax.axis("off")
            im = np.clip((np.asarray(images[j]) + 1.0) / 2.0, 0.0, 1.0)
            ax.imshow(im[..., 0] if im.shape[-1] == 1 else im, cmap="gray", vmin=0, vmax=1)
        duplicate = distances[j] < threshold
        axes[0, j].set_title(f"{distances[j]:.2f}" + (" dup." if duplicate else ""), fontsize=8,
                             color="tab:red" if duplicate else "black")
    axes[0, 0].text(-0.15, 0.5, "generated", transform=axes[0, 0].transAxes, rotation=90, va="center", ha="right",
                    fontsize=8)
    axes[1, 0].text(-0.15, 0.5, "nearest training", transform=axes[1, 0].transAxes, rotation=90, va="center",
                    ha="right", fontsize=8)
    fig.suptitle((title + "\n" if title else "") + f"distance to the nearest training image; duplicate below "
                 f"{threshold:.2f} (1% of test images are that close)", fontsize=9)
    _save(fig, path)


def animation(frames: list[str], path: str, *, seconds_per_frame: float = 0.6) -> None:
    """An animated GIF of PNG files (a run's sample grids, epoch after epoch); the last frame lingers."""
    if not frames:
        raise ValueError("no frames to animate")
    images = []
    for frame in frames:
        try:
            with Image.open(frame) as image:
                images.append(image.convert("RGB"))
        except Exception as e:  # PIL raises many types for a damaged or truncated image
            raise RunFileError(f"cannot read the sample grid {frame} ({reason(e)}): it is damaged. Delete it, and "
                               "the animation is made of the other grids.") from None
    size = images[0].size
    images = [im if im.size == size else im.resize(size) for im in images]
    durations = [int(seconds_per_frame * 1000)] * (len(images) - 1) + [int(seconds_per_frame * 4000)]
    with atomic_path(path, suffix=".gif") as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
