"""Reading a PyTorch state dict (`torch.save` of a dict of tensors) without PyTorch, into NumPy arrays.

The reference FID network's standard weights are published as one (pytorch-fid's
pt_inception-2015-12-05-6726825d.pth), so a user who has that file needs no PyTorch to use them.
Both of `torch.save`'s layouts are read: the zip archive (PyTorch 1.6 and later: `data.pkl` and one
file of raw bytes per storage) and the legacy one (consecutive pickles: magic number, protocol,
system info, the object, the storage keys, then each storage as an 8-byte element count and its
bytes). The pickles are read by an unpickler that builds tensors, ordered dicts and nothing else, as
`torch.load(weights_only=True)` does, so a weights file cannot run code.
"""

import collections
import io
import pickle
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
          "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
          "ByteStorage": np.uint8, "BoolStorage": np.bool_}


class _Storage:
    def __init__(self, dtype, key):
        self.dtype, self.key, self.data = dtype, key, None


def _rebuild_tensor(storage, offset, size, stride, *_):
    itemsize = np.dtype(storage.dtype).itemsize
    return np.lib.stride_tricks.as_strided(storage.data[offset:], shape=tuple(size),
                                           strides=tuple(s * itemsize for s in stride)).copy()


class _Unpickler(pickle.Unpickler):
    """Builds only tensors (as NumPy arrays, filled once the storages are read) and ordered dicts."""

    def __init__(self, file, storages: dict):
        super().__init__(file)
        self.storages, self.pending = storages, []

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return self._tensor
        if module == "torch" and name in DTYPES:
            return DTYPES[name]
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a weights file")

    def _tensor(self, storage, offset, size, stride, *rest):
        self.pending.append((storage, offset, size, stride))
        return ("tensor", len(self.pending) - 1)

    def persistent_load(self, saved_id):
        kind, storage_type, key = saved_id[0], saved_id[1], str(saved_id[2])
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        dtype = storage_type if isinstance(storage_type, type) else DTYPES.get(getattr(storage_type, "__name__", ""))
        return self.storages.setdefault(key, _Storage(dtype, key))


def _fill(obj, tensors):
    if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "tensor":
        return tensors[obj[1]]
    if isinstance(obj, dict):
        return collections.OrderedDict((k, _fill(v, tensors)) for k, v in obj.items())
    return obj


def read_state_dict(path: str) -> dict:
    """The {name: NumPy array} of a PyTorch state dict file. Raises ValueError naming what is wrong
    when the file is not one."""
    with open(path, "rb") as f:
        raw = f.read()
    storages: dict = {}
    if zipfile.is_zipfile(io.BytesIO(raw)):
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = archive.namelist()
            pickled = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
            if pickled is None:
                raise ValueError("a zip archive without data.pkl, not a torch.save file")
            root = pickled[:-len("data.pkl")]
            unpickler = _Unpickler(io.BytesIO(archive.read(pickled)), storages)
            state = unpickler.load()
            for key, storage in storages.items():
                storage.data = np.frombuffer(archive.read(f"{root}data/{key}"), storage.dtype)
    else:
        stream = io.BytesIO(raw)
        if pickle.load(stream) != LEGACY_MAGIC:
            raise ValueError("neither a zip archive nor a legacy torch.save file (no magic number)")
        pickle.load(stream), pickle.load(stream)  # protocol version, system information
        unpickler = _Unpickler(stream, storages)
        state = unpickler.load()
        for key in pickle.load(stream):  # the storages, in this order, after the pickles
            count = int.from_bytes(stream.read(8), "little")
            storage = storages[str(key)]
            storage.data = np.frombuffer(stream.read(count * np.dtype(storage.dtype).itemsize), storage.dtype)
    tensors = [_rebuild_tensor(*item) for item in unpickler.pending]
    state = _fill(state, tensors)
    if not isinstance(state, dict):
        raise ValueError("the file holds no dict of tensors")
    return state
