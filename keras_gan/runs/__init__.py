"""A training run's configuration and folder: TrainConfig (config.json), the files of the folder and
their readers, the checkpoint, the lock, and loading the generator a run saved."""
