"""`make bench`: the training step against the deck's loop, the compute floor and PyTorch
(README.md beside this file)."""
