"""Training: the loop, what a step of each member is, the callbacks that write the run folder, the
distribution strategies and the speed-only code (README.md beside this file)."""
