"""Putting a trained generator to use: sampling it (generate), translating and upscaling images
(translate, upscale)."""
