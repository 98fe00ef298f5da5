#!/usr/bin/python3
"""Make the TrueType-outline copy of the bundled font for PDF receipts.

The PDF library embeds TrueType ('glyf') fonts only, while Noto Sans CJK is
CFF-based. This converts NotoSansSC-Regular-subset.otf (made by mkfont.py)
with fontTools' cubic-to-quadratic conversion, which changes outlines by at
most a thousandth of an em: invisible at receipt sizes. The PDF embeds only
the glyphs a receipt uses.

Run after mkfont.py: /usr/bin/python3 mkttf.py
"""
import os

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    src = os.path.join(HERE, "NotoSansSC-Regular-subset.otf")
    font = TTFont(src)
    order = font.getGlyphOrder()
    glyphset = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphset)
        glyphset[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(order)
    for field in ("maxZones",):
        setattr(maxp, field, 1)
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements",
                  "maxComponentDepth", "maxPoints", "maxContours", "maxCompositePoints",
                  "maxCompositeContours"):
        setattr(maxp, field, 0)
    font["maxp"] = maxp
    font["post"].formatType = 3.0  # no glyph names: smaller, and PDF needs none
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\000\001\000\000"
    out = os.path.join(HERE, "NotoSansSC-Regular-subset.ttf")
    font.save(out)
    print(f"{out}: {os.path.getsize(out)} bytes, {len(order)} glyphs")


if __name__ == "__main__":
    main()
