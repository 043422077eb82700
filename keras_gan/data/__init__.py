"""Data: datasets by name, the readers of their files, the tf.data pipeline and image transforms
(README.md beside this file)."""
