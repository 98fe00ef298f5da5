#!/usr/bin/python3
"""Make the kiosk's bundled CJK fonts.

Extracts Noto Sans CJK SC (Regular and Bold) from Debian's fonts-noto-cjk
collection (.ttc files crash Fyne, so a single OTF is needed) and subsets it to
what a service point shows: ASCII, Latin-1, general and CJK punctuation,
full-width forms, every Chinese character GBK can encode (about 21,000; this
covers the names people actually write, including most 生僻字 in the BMP), and
every character beyond the BMP that the font has (CJK Extension B and later,
such as 𠮷 in names). Anything else falls back to fonts installed on the system.

Run: apt-get install fonts-noto-cjk python3-fonttools && /usr/bin/python3 mkfont.py
"""
import os
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

SRC = "/usr/share/fonts/opentype/noto"
HERE = os.path.dirname(os.path.abspath(__file__))


def codepoints():
    cps = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    cps |= set(range(0x2000, 0x206F))  # general punctuation
    cps |= set(range(0x2100, 0x218F))  # letterlike, number forms (Ⅰ Ⅱ)
    cps |= set(range(0x2460, 0x24FF))  # enclosed numbers ① ②
    cps |= set(range(0x2190, 0x21FF)) | set(range(0x25A0, 0x25FF)) | set(range(0x2600, 0x26FF))
    cps |= set(range(0x3000, 0x303F))  # CJK symbols and punctuation
    cps |= set(range(0xFF00, 0xFFEF))  # full-width forms
    cps.add(0x2713)  # ✓
    cps.add(0x2717)  # ✗
    for cp in range(0x4E00, 0xA000):
        try:
            chr(cp).encode("gbk")
        except UnicodeEncodeError:
            continue
        cps.add(cp)
    return sorted(cps)


def supplementary(font):
    """Code points beyond the BMP that the font draws (生僻字 in names)."""
    return {cp for cp in font.getBestCmap() if cp >= 0x20000}


def extract(weight):
    ttc = TTCollection(os.path.join(SRC, f"NotoSansCJK-{weight}.ttc"))
    for font in ttc.fonts:
        if font["name"].getDebugName(1) == "Noto Sans CJK SC":
            return font
    sys.exit(f"Noto Sans CJK SC not found in NotoSansCJK-{weight}.ttc")


def main():
    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    opts.desubroutinize = False
    cps = codepoints()
    for weight in ("Regular", "Bold"):
        font = extract(weight)
        wanted = sorted(set(cps) | supplementary(font))
        sub = subset.Subsetter(opts)
        sub.populate(unicodes=wanted)
        sub.subset(font)
        out = os.path.join(HERE, f"NotoSansSC-{weight}-subset.otf")
        font.save(out)
        print(f"{out}: {os.path.getsize(out)} bytes, {len(wanted)} code points")


if __name__ == "__main__":
    main()
