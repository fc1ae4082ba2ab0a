"""Renders `tmux capture-pane -e -p` output (text with SGR colour codes) to a PNG.

    python3 ansi2png.py screen.ansi out.png

Needs Pillow and DejaVu Sans Mono (Debian: fonts-dejavu-core).
"""

import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 15
# Neovim's default dark theme, for cells that keep the terminal's own colours.
DEFAULT_FG = (0xE0, 0xE2, 0xEA)
DEFAULT_BG = (0x14, 0x16, 0x1B)
BASE16 = [
    (0x07, 0x08, 0x0D), (0xFF, 0xC0, 0xB9), (0xB3, 0xF6, 0xC0), (0xFC, 0xE0, 0x94),
    (0xA6, 0xDB, 0xFF), (0xFF, 0xCA, 0xFF), (0x8C, 0xF8, 0xF7), (0xC4, 0xC6, 0xCD),
    (0x4F, 0x52, 0x58), (0xFF, 0xC0, 0xB9), (0xB3, 0xF6, 0xC0), (0xFC, 0xE0, 0x94),
    (0xA6, 0xDB, 0xFF), (0xFF, 0xCA, 0xFF), (0x8C, 0xF8, 0xF7), (0xEE, 0xF1, 0xF8),
]


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.italic = self.underline = self.reverse = self.dim = self.strike = False

    def copy(self):
        s = Style()
        s.__dict__.update(self.__dict__)
        return s

    def apply(self, params):
        codes = params.split(";") if params else ["0"]
        i = 0
        while i < len(codes):
            c = codes[i]
            main = c.split(":")[0]
            n = int(main) if main.isdigit() else 0
            if n == 0:
                self.reset()
            elif n == 1:
                self.bold = True
            elif n == 2:
                self.dim = True
            elif n == 3:
                self.italic = True
            elif n == 4:
                self.underline = c != "4:0"
            elif n == 7:
                self.reverse = True
            elif n == 9:
                self.strike = True
            elif n == 22:
                self.bold = self.dim = False
            elif n == 23:
                self.italic = False
            elif n == 24:
                self.underline = False
            elif n == 27:
                self.reverse = False
            elif n == 29:
                self.strike = False
            elif 30 <= n <= 37:
                self.fg = BASE16[n - 30]
            elif 90 <= n <= 97:
                self.fg = BASE16[n - 90 + 8]
            elif 40 <= n <= 47:
                self.bg = BASE16[n - 40]
            elif 100 <= n <= 107:
                self.bg = BASE16[n - 100 + 8]
            elif n == 39:
                self.fg = None
            elif n == 49:
                self.bg = None
            elif n in (38, 48, 58):
                if ":" in c:  # 38:2::r:g:b or 38:5:n
                    sub = [int(x) if x else 0 for x in c.split(":")[1:]]
                    colour = xterm256(sub[1]) if sub[0] == 5 else tuple(sub[-3:])
                elif i + 1 < len(codes) and codes[i + 1] == "5":
                    colour = xterm256(int(codes[i + 2]))
                    i += 2
                else:
                    colour = tuple(int(x) for x in codes[i + 2 : i + 5])
                    i += 4
                if n == 38:
                    self.fg = colour
                elif n == 48:
                    self.bg = colour
            i += 1


SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def parse(text):
    """Rows of (char, style) cells."""
    rows = []
    style = Style()
    for line in text.rstrip("\n").split("\n"):
        cells = []
        pos = 0
        for m in SGR.finditer(line):
            cells.extend((ch, style.copy()) for ch in line[pos : m.start()])
            style.apply(m.group(1))
            pos = m.end()
        cells.extend((ch, style.copy()) for ch in line[pos:])
        rows.append(cells)
    return rows


def main(src, dst):
    with open(src, encoding="utf-8", errors="replace") as f:
        rows = parse(f.read())
    fonts = {
        (b, i): ImageFont.truetype(FONT_DIR + name, SIZE)
        for (b, i), name in {
            (False, False): "DejaVuSansMono.ttf",
            (True, False): "DejaVuSansMono-Bold.ttf",
            (False, True): "DejaVuSansMono-Oblique.ttf",
            (True, True): "DejaVuSansMono-BoldOblique.ttf",
        }.items()
    }
    cw = round(fonts[(False, False)].getlength("M"))
    ch = round(SIZE * 1.3)
    cols = max(len(r) for r in rows)
    pad = 10
    img = Image.new("RGB", (cols * cw + 2 * pad, len(rows) * ch + 2 * pad), DEFAULT_BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(rows):
        for x, (c, s) in enumerate(row):
            fg = s.fg or DEFAULT_FG
            bg = s.bg or DEFAULT_BG
            if s.reverse:
                fg, bg = bg, fg
            if s.dim:
                fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
            px, py = pad + x * cw, pad + y * ch
            if bg != DEFAULT_BG:
                draw.rectangle([px, py, px + cw - 1, py + ch - 1], fill=bg)
            if c != " ":
                draw.text((px, py + 2), c, font=fonts[(s.bold, s.italic)], fill=fg)
            if s.underline:
                draw.line([px, py + ch - 2, px + cw - 1, py + ch - 2], fill=fg)
            if s.strike:
                draw.line([px, py + ch // 2, px + cw - 1, py + ch // 2], fill=fg)
    img.save(dst, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
