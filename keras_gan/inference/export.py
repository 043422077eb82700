"""A trained generator for serving: a TensorFlow SavedModel and a TFLite file, each checked against the
`.keras` generator's own outputs before it is kept. What `python -m keras_gan.export` does.

    export_generator(ExportRequest("runs/dcgan_fashion_mnist/generator.keras", "exported/dcgan"))

The SavedModel (Keras's `model.export`) takes any batch of noise vectors (and one-hot rows for a
conditional generator) and returns the images as the generator makes them. TFLite needs a fixed
batch (`batch`, 1 by default). Both are written into a temporary folder beside `out`, run on the same
seeded noise as the `.keras` generator, and moved into place only when the largest difference is
within `TOLERANCE`; `export.json` records the differences. TFLite is run through LiteRT
(`ai_edge_litert`, the `export` extra) where it is installed, else through TensorFlow's own
interpreter.
"""

import dataclasses
import json
import os
import shutil
import tempfile
import warnings

import keras
import numpy as np

from keras_gan import backend
from keras_gan.errors import ConfigError, ModelFileError, reason
from keras_gan.io.atomic import sync_folder
from keras_gan.models import sampling
from keras_gan.runs.generator import load_generator

TOLERANCE = 1e-4  # largest |difference| allowed, on images in [-1, 1]
SAVED_MODEL, TFLITE, REPORT = "saved_model", "generator.tflite", "export.json"


@dataclasses.dataclass(frozen=True)
class ExportRequest:
    generator: str
    out: str
    batch: int = 1      # TFLite's fixed batch
    seed: int = 0       # of the noise the checks compare on
    checks: int = 8     # noise vectors compared (rounded up to a multiple of `batch`)


def _inputs(g, n: int, seed) -> list[np.ndarray]:
    noise = g.noise_for(n, seed)
    classes = g.num_classes
    return [noise] if classes is None else [noise, sampling.one_hot(np.arange(n) % classes, classes)]


def serve(loaded, inputs: list[np.ndarray]) -> np.ndarray:
    """A loaded SavedModel's images for `inputs` (noise, and one-hot rows for a conditional generator)."""
    tf = backend.tensorflow()
    tensors = [tf.constant(x) for x in inputs]
    return loaded.serve(tensors[0] if len(tensors) == 1 else tensors).numpy()


def _interpreter(content: bytes):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # TensorFlow's own, deprecated since 2.20 in favour of LiteRT
        Interpreter = backend.tensorflow().lite.Interpreter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Interpreter(model_content=content)


def run_tflite(content: bytes, inputs: list[np.ndarray], batch: int) -> np.ndarray:
    """The TFLite model's outputs for `inputs`, `batch` rows at a time (its fixed batch)."""
    interpreter = _interpreter(content)
    interpreter.allocate_tensors()
    details = sorted(interpreter.get_input_details(), key=lambda d: d["index"])
    by_width = {int(d["shape"][-1]): d for d in details}
    output = interpreter.get_output_details()[0]
    out = []
    for i in range(0, len(inputs[0]), batch):
        for x in inputs:
            interpreter.set_tensor(by_width[x.shape[-1]]["index"], x[i:i + batch])
        interpreter.invoke()
        out.append(np.array(interpreter.get_tensor(output["index"])))
    return np.concatenate(out)


def _tflite(model, batch: int, folder: str) -> bytes:
    """TFLite of `model` at a fixed batch: a SavedModel with that one signature (Keras's ExportArchive),
    written into `folder` and converted."""
    tf = backend.tensorflow()
    specs = [tf.TensorSpec((batch, *x.shape[1:]), tf.float32) for x in model.inputs]
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", lambda inputs: model(inputs, training=False),
                         input_signature=[specs[0] if len(specs) == 1 else specs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        archive.write_out(folder, verbose=False)
    return tf.lite.TFLiteConverter.from_saved_model(folder).convert()


def export_generator(request: ExportRequest, log=print) -> dict:
    """Writes `out`/saved_model, `out`/generator.tflite and `out`/export.json; returns the report."""
    if request.batch < 1:
        raise ConfigError(f"--batch must be at least 1. Received: batch={request.batch}")
    if not backend.is_tensorflow():
        raise ConfigError(f"export writes a TensorFlow SavedModel and a TFLite file through Keras's TensorFlow "
                          f"backend; run it with KERAS_BACKEND=tensorflow (this run's is {backend.name()}).")
    g = load_generator(request.generator)
    n = -(-max(request.checks, 1) // request.batch) * request.batch
    inputs = _inputs(g, n, request.seed)
    expected = sampling.decode(g.model, *inputs)
    parent = os.path.dirname(os.path.abspath(request.out))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        saved_model = os.path.join(staging, SAVED_MODEL)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g.model.export(saved_model, verbose=False)
            served = serve(backend.tensorflow().saved_model.load(saved_model), inputs)
            content = _tflite(g.model, request.batch, os.path.join(staging, "fixed_batch"))
            shutil.rmtree(os.path.join(staging, "fixed_batch"))
        except Exception as e:  # the converters raise many types
            raise ModelFileError(f"cannot export {request.generator}: {reason(e)}") from None
        with open(os.path.join(staging, TFLITE), "wb") as f:
            f.write(content)
        lite = run_tflite(content, inputs, request.batch)
        report = {"generator": request.generator, "checked_on": n, "seed": request.seed, "tflite_batch": request.batch,
                  "tolerance": TOLERANCE,
                  "saved_model_max_difference": float(np.abs(served.reshape(expected.shape) - expected).max()),
                  "tflite_max_difference": float(np.abs(lite.reshape(expected.shape) - expected).max()),
                  "tflite_bytes": len(content)}
        for what in ("saved_model", "tflite"):
            if not report[f"{what}_max_difference"] <= TOLERANCE:
                raise ModelFileError(f"the exported {what} does not reproduce {request.generator}: largest difference "
                                     f"{report[f'{what}_max_difference']:.3g} > {TOLERANCE:g}; nothing was written.")
        with open(os.path.join(staging, REPORT), "w") as f:
            json.dump(report, f, indent=2)
        if os.path.exists(request.out):
            if not os.path.isdir(request.out) or set(os.listdir(request.out)) - {SAVED_MODEL, TFLITE, REPORT}:
                raise ConfigError(f"--out={request.out} exists and holds other files; name a new folder.")
            shutil.rmtree(request.out)
        os.replace(staging, request.out)
        sync_folder(parent)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
    log(f"wrote {request.out}: {SAVED_MODEL}/ (any batch) and {TFLITE} (batch {request.batch}, "
        f"{report['tflite_bytes'] / 1e6:.1f} MB); on {n} seeded inputs they reproduce the .keras generator within "
        f"{report['saved_model_max_difference']:.2g} and {report['tflite_max_difference']:.2g}")
    return report
