"""Running experiments: run directories, checkpoints, metrics, progress and the training loop."""
