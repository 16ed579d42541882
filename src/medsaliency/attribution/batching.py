"""Model calls of one fixed size across images: input gradients of a stream of row blocks.

The gradient and path methods need many gradients per image (SmoothGrad IG: ``nsamples x
x_steps`` = 625 with PAIR's defaults). PAIR asks for them image by image, in batches that end
where an image's path ends (SmoothGrad: one row per call). Here each method hands over its rows
as blocks (one block per path, noisy sample or image) and :func:`gradient_blocks` sends them to
the model in calls of exactly ``batch_size`` rows, whatever block they come from; only the very
last call is padded with zero images. A row's gradient does not depend on the other rows of its
call (checked in the tests), and every call has the same size, so the maps are the same bytes
however the images are split into tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

GradientFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


class _Rows:
    """A FIFO of array rows (``[r, ...]`` blocks), taken out ``n`` rows at a time."""

    def __init__(self):
        self.blocks: list[np.ndarray] = []
        self.count = 0

    def put(self, block: np.ndarray) -> None:
        self.blocks.append(block)
        self.count += len(block)

    def take(self, n: int) -> np.ndarray:
        """The first ``n`` rows (``n <= count``), removed."""
        taken, needed = [], n
        while needed:
            head = self.blocks[0]
            if len(head) <= needed:
                taken.append(self.blocks.pop(0))
                needed -= len(head)
            else:
                taken.append(head[:needed])
                self.blocks[0] = head[needed:]
                needed = 0
        self.count -= n
        return taken[0] if len(taken) == 1 else np.concatenate(taken)


def gradient_blocks(gradients: GradientFunction, blocks: Iterable[tuple[np.ndarray, np.ndarray]], batch_size: int) -> Iterator[np.ndarray]:
    """``gradients`` (``ExplainedModel.input_gradients``) of each ``(x [r, H, W, C], classes [r])``
    of ``blocks``, in order: d logit[classes] / d x, ``[r, H, W, C]`` float32, computed in model
    calls of exactly ``batch_size`` rows (the last one padded with zero images). Blocks are read
    lazily: at most one call's rows wait in memory beyond the block being yielded."""
    inputs, targets, outputs, sizes = _Rows(), _Rows(), _Rows(), []
    for x, classes in blocks:
        inputs.put(np.asarray(x, np.float32))
        targets.put(np.asarray(classes, np.int32))
        sizes.append(len(x))
        while inputs.count >= batch_size:
            outputs.put(gradients(inputs.take(batch_size), targets.take(batch_size)))
        while sizes and outputs.count >= sizes[0]:
            yield outputs.take(sizes.pop(0))
    if inputs.count:
        rows = inputs.count
        x, classes = padded(inputs.take(rows), batch_size), padded(targets.take(rows), batch_size)
        outputs.put(gradients(x, classes)[:rows])
    while sizes:
        yield outputs.take(sizes.pop(0))


def consecutive_slices(total: int, size: int) -> list[slice]:
    """``[0, size), [size, 2 size), ...`` up to ``total`` (the last one shorter): batches, tasks."""
    return [slice(start, min(start + size, total)) for start in range(0, total, size)]


def fixed_batches(function, x: np.ndarray, batch_size: int, *others: np.ndarray):
    """``function(x[b], *others[b])`` over calls of exactly ``batch_size`` rows (the last padded with
    zeros and cut back), joined along the first axis (tuples of outputs joined element-wise)."""
    results = []
    for batch in consecutive_slices(len(x), batch_size):
        rows = batch.stop - batch.start
        output = function(*(padded(array[batch], batch_size) for array in (x, *others)))
        results.append(tuple(part[:rows] for part in output) if isinstance(output, tuple) else output[:rows])
    if results and isinstance(results[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*results, strict=True))
    return np.concatenate(results)


def padded(rows: np.ndarray, size: int) -> np.ndarray:
    """``rows`` followed by zero rows up to ``size`` (unchanged when already that long)."""
    if len(rows) >= size:
        return rows
    return np.concatenate([rows, np.zeros((size - len(rows), *rows.shape[1:]), rows.dtype)])
