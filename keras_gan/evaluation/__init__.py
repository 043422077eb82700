"""Evaluation: the feature networks, and scoring generated images through them with the metrics of
keras_gan.metrics (README.md beside this file)."""
