"""Rebuild the chart font: a subset of Noto Sans CJK SC (SIL OFL 1.1) for lvdong's charts.

    .venv/bin/python tools/build_chart_font.py --source NotoSansCJKsc-Regular.otf

The source is the OFL-licensed Noto Sans CJK SC Regular, e.g. from the PyPI package
``mplfonts`` (``pip download --no-deps mplfonts``; the wheel is a zip holding
``mplfonts/fonts/NotoSansCJKsc-Regular.otf``) or Debian's ``fonts-noto-cjk``
(``NotoSansCJK-Regular.ttc``, face ``--font-number 2``). The subset keeps:

* printable ASCII and a few typographic marks charts use (− — … · ％ 〓);
* every character of GB 2312 (its 6,763 hanzi and its punctuation and symbols): the
  characters Simplified Chinese text almost always uses;
* every character of the texts given with ``--text`` (default: the shipped knowledge
  base) and of Henan's region and county names (storage/regions.py), which add a few
  hanzi outside GB 2312 (瀍, 浉).

A knowledge base with characters outside this set: run the script again with
``--text that.yaml``; until then charts draw such a character as 〓 (see
handlers/staff/charts.py). The family is renamed (OFL: a Modified Version), the
copyright and licence records are kept; the licence is ``OFL.txt`` beside the font.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fontTools import subset  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402

from storage.regions import COUNTIES, FORMER_NAMES, PARENT_CITY, REGIONS  # noqa: E402

OUT = ROOT / "handlers" / "staff" / "fonts" / "LvdongSansSC-Regular.otf"
FAMILY = "Lvdong Sans SC"
POSTSCRIPT = "LvdongSansSC-Regular"
MARKS = "−—–…·％〓“”‘’、。，：；（）《》【】！？～"


def gb2312() -> str:
    """Every character GB 2312 encodes (rows 0xA1–0xF7, cells 0xA1–0xFE)."""
    chars = []
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


def region_text() -> str:
    names = [*REGIONS, *PARENT_CITY.values(), *FORMER_NAMES, *FORMER_NAMES.values()]
    for counties in COUNTIES.values():
        names += counties
    return "".join(names)


def charset(texts: list[Path]) -> set[int]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set(MARKS) | set(gb2312()) | set(region_text())
    for path in texts:
        chars |= set(path.read_text(encoding="utf-8"))
    return {ord(c) for c in chars if unicodedata.category(c) not in ("Cc", "Cs")}


def rename(font: TTFont) -> None:
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17, 21, 22):
            names.removeNames(nameID=record.nameID)
    version = font["head"].fontRevision
    for name_id, text in (
        (1, FAMILY),
        (2, "Regular"),
        (3, f"{version:.3f};{POSTSCRIPT};subset of Noto Sans CJK SC for lvdong charts"),
        (4, f"{FAMILY} Regular"),
        (6, POSTSCRIPT),
    ):
        names.setName(text, name_id, 3, 1, 0x409)
        names.setName(text, name_id, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [POSTSCRIPT]
        top = cff.topDictIndex[0]
        top.FullName = f"{FAMILY} Regular"
        top.FamilyName = FAMILY


def build(source: Path, out: Path, texts: list[Path], font_number: int) -> None:
    font = TTFont(source, fontNumber=font_number, lazy=False)
    wanted = charset(texts)
    available = set(font.getBestCmap())
    missing = sorted(wanted - available)
    options = subset.Options()
    options.layout_features = []  # matplotlib draws glyph by glyph: no shaping tables needed
    options.drop_tables += ["GSUB", "GPOS", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted & available))
    subsetter.subset(font)
    rename(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    print(f"{out}: {len(wanted & available):,} characters, {out.stat().st_size / 1e6:.2f} MB "
          f"(source {source.name}, sha256 {digest}…, {source.stat().st_size / 1e6:.1f} MB)")
    if missing:
        shown = " ".join(f"U+{c:04X}" for c in missing[:20])
        print(f"not in the source font ({len(missing)}): {shown}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description="Rebuild lvdong's chart font (a CJK subset).")
    parser.add_argument("--source", type=Path, required=True,
                        help="NotoSansCJKsc-Regular.otf (or NotoSansCJK-Regular.ttc)")
    parser.add_argument("--font-number", type=int, default=0,
                        help="face in a .ttc (Debian's NotoSansCJK-Regular.ttc: 2 is SC)")
    parser.add_argument("--text", type=Path, action="append",
                        help="a file whose every character the font must have (repeat); "
                             "default: the shipped knowledge base")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    texts = args.text or sorted((ROOT / "knowledge" / "data").glob("*.yaml"))
    build(args.source, args.out, texts, args.font_number)
    return 0


if __name__ == "__main__":
    sys.exit(main())
