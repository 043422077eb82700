"""The deck and its family: networks built from Keras's own layers, the GAN with its combined model,
CycleGAN, SRGAN, losses, penalties and the presets that name them (README.md beside this file)."""
