"""make bench's folder rows (keras_gan/benchmarks/folders.py): the folder of JPEGs they time, the
pipeline they time (the FilePipeline of that folder, every image in range), and the streaming memory
check's epochs (the folder streams: it is over --data_memory_mb)."""

import numpy as np
import pytest
from keras_gan.benchmarks import folders as bench
from keras_gan.data import folders
from keras_gan.data.pipeline import FilePipeline
from keras_gan.errors import ConfigError


def test_the_folder_rows_time_what_they_say(tmp_path):
    assert bench.make_folder(str(tmp_path), 40) == "scikit-image's photographs"
    listing = folders.list_folder(str(tmp_path))
    assert len(listing.train) + len(listing.test) == 40 and listing.class_names == ("images",)
    files = folders.ImageFiles(listing.train, listing.train_labels, bench.SHAPE)
    (batch,) = list(FilePipeline(files, flatten=False).epoch(batch_size=32, seed=0, epoch=1))
    assert batch.shape == (32, *bench.SHAPE) and -1 <= float(np.min(batch)) < float(np.max(batch)) <= 1
    assert bench.served_per_second(files, batches=2, batch_size=16) > 0
    with pytest.raises(ConfigError, match="make no batch of 128"):
        bench.served_per_second(files, batches=1)
    with pytest.raises(ConfigError, match="give at least 256"):
        bench.measure(100, memory_epochs=0)
    assert len(bench.streaming_memory(str(tmp_path), epochs=2, steps=1)) == 2
