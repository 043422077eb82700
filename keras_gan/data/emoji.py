"""A real colour image folder that runs offline: the colour emoji of Debian's fonts-noto-color-emoji.

    apt-get install fonts-noto-color-emoji
    python -m keras_gan.data.emoji ~/emoji            # about 1,400 PNGs in class subfolders
    python -m keras_gan.train --model=dcgan_paper --dataset=folder:~/emoji --image_size=64

Noto Color Emoji (Google's emoji, drawn by people outside this project, SIL Open Font License)
carries each emoji as a 136x128 colour bitmap. Every single code point the font maps (the
font's cmap, read with fontTools, which matplotlib already needs) is drawn with Pillow at the
bitmaps' size, 109 px (`embedded_color=True`), centred on a white 128x128 square, and written as
PNG, `u1F600.png`. Sequences (skin tones, flags, families) are left out, and so are code points the
font draws as nothing. The class subfolders are the Unicode blocks the emoji come from
(`BLOCKS`): faces, animals and nature, objects ... so a conditional GAN has labels to learn.

Nothing here is committed: the folder is made again from the installed font whenever it is
missing (`make experiment` keeps it in the cache folder, keras_gan/evaluation/features.cache_dir).
"""

import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from keras_gan.errors import DataError

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
SIZE, SIDE = 109, 128  # the font's bitmap size in points, and the square each emoji is drawn on
# (name, first, last code point): the Unicode blocks that hold emoji; the rest is "symbols"
BLOCKS = (
    ("faces", 0x1F600, 0x1F64F),                  # Emoticons
    ("pictographs", 0x1F300, 0x1F5FF),            # Miscellaneous Symbols and Pictographs
    ("transport", 0x1F680, 0x1F6FF),              # Transport and Map Symbols
    ("supplemental", 0x1F900, 0x1F9FF),           # Supplemental Symbols and Pictographs
    ("extended", 0x1FA70, 0x1FAFF),               # Symbols and Pictographs Extended-A
)
OTHER = "symbols"


def block_of(code_point: int) -> str:
    return next((name for name, first, last in BLOCKS if first <= code_point <= last), OTHER)


def code_points(font_path: str = FONT) -> list[int]:
    """The single code points the font maps, outside the private-use planes."""
    from fontTools.ttLib import TTFont  # matplotlib's dependency: installed wherever keras_gan is

    with TTFont(font_path, lazy=True) as font:
        return sorted(c for c in font.getBestCmap() if c > 0x20 and c < 0xF0000)


def render(code_point: int, font) -> np.ndarray | None:
    """The emoji of `code_point` as uint8 RGB (SIDE, SIDE, 3) on white, or None if the font draws nothing."""
    canvas = Image.new("RGBA", (SIDE, SIDE), (255, 255, 255, 0))
    ImageDraw.Draw(canvas).text((SIDE // 2, SIDE // 2), chr(code_point), font=font, embedded_color=True, anchor="mm")
    pixels = np.asarray(canvas)
    if pixels[..., 3].max() == 0:
        return None
    white = Image.new("RGBA", canvas.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, canvas).convert("RGB"))


def build(folder: str, font_path: str = FONT, log=print) -> int:
    """Writes the emoji folder (class subfolders of PNGs) into `folder`; returns how many it wrote. A
    folder already complete (its `.complete` marker) is left as it is."""
    marker = os.path.join(folder, ".complete")
    if os.path.isfile(marker):
        with open(marker) as f:
            return int(f.read().strip() or 0)
    if not os.path.isfile(font_path):
        raise DataError(f"the emoji font {font_path} is not installed: apt-get install fonts-noto-color-emoji "
                        "(Debian and Ubuntu).")
    font = ImageFont.truetype(font_path, SIZE)
    written = 0
    for code_point in code_points(font_path):
        image = render(code_point, font)
        if image is None:
            continue
        sub = os.path.join(folder, block_of(code_point))
        os.makedirs(sub, exist_ok=True)
        Image.fromarray(image).save(os.path.join(sub, f"u{code_point:04X}.png"))
        written += 1
    with open(marker, "w") as f:  # last: a folder interrupted while being written is written again
        f.write(str(written))
    log(f"wrote {written} emoji of {font_path} to {folder}")
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m keras_gan.data.emoji FOLDER")
    try:
        build(os.path.expanduser(sys.argv[1]))
    except DataError as e:
        sys.exit(f"error: {e}")
