#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Checks a screenshot of `rcatrace report --html` against the data it was drawn from.

usage: report_check.py --html FILE --png FILE --unit NAME --points FILE.json

The page's RSS charts carry data-unit, data-t0-ms, data-t1-ms, data-ymax-kib
and data-plot-{x,y,w,h} on their <svg>; their plot frames are drawn in a colour
used nowhere else (FRAME), so the N-th RSS chart of the document is the N-th
such frame from the top of the screenshot. For every [t_ms, rss_kib] in the
points file there must be a pixel of the RSS line colour (LINE) within
--tolerance px of where the data puts it. Exits 1 with the reason on any
mismatch, 2 on bad usage or unreadable input. Standard library only.
"""
import argparse
import html.parser
import json
import struct
import sys
import zlib

# Must match RSS_FRAME_COLOUR and RSS_LINE_COLOUR in user/output/html_report.c.
FRAME = (0x6B, 0x6F, 0x8A)
LINE = (0x1F, 0x77, 0xB4)
FRAME_COLOUR_SLACK = 8  # per channel: the frame is drawn crisp, so it is near exact
LINE_COLOUR_SLACK = 40  # the line's core; its anti-aliased rim is lighter and ignored


class Mismatch(Exception):
    pass


class RssCharts(html.parser.HTMLParser):
    """The data-* attributes of every RSS chart's <svg>, in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.charts = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "data-unit" in a:
            self.charts.append(a)


def read_png(path):
    """(width, height, rows): rows[y] is bytes of RGB triples. 8-bit RGB/RGBA, not interlaced."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Mismatch(f"{path} is not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        raise Mismatch(f"{path}: no IHDR chunk")
    width, height, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise Mismatch(f"{path}: unsupported PNG (depth {depth}, colour type {ctype}, "
                       f"interlace {interlace})")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        unfilter(ftype, cur, prev, bpp)
        rows.append(bytes(cur) if bpp == 3 else bytes(b for i, b in enumerate(cur) if i % 4 != 3))
        prev = cur
    return width, height, rows


def unfilter(ftype, cur, prev, bpp):
    if ftype == 0:
        return
    n = len(cur)
    if ftype == 1:
        for i in range(bpp, n):
            cur[i] = (cur[i] + cur[i - bpp]) & 0xFF
    elif ftype == 2:
        # Bytewise addition mod 256 on whole rows as integers (no carry crosses a byte): fast.
        a, b = int.from_bytes(cur, "big"), int.from_bytes(prev, "big")
        low7, high = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
        cur[:] = (((a & low7) + (b & low7)) ^ ((a ^ b) & high)).to_bytes(n, "big")
    elif ftype == 3:
        for i in range(n):
            left = cur[i - bpp] if i >= bpp else 0
            cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif ftype == 4:
        for i in range(n):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            cur[i] = (cur[i] + pred) & 0xFF
    else:
        raise Mismatch(f"bad PNG filter type {ftype}")


def near(row, x, colour, slack):
    r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
    return abs(r - colour[0]) <= slack and abs(g - colour[1]) <= slack and abs(b - colour[2]) <= slack


def find_frames(width, rows, plot_w, plot_h):
    """Plot frames of the RSS colour, top to bottom: (x, y, w, h) in image pixels."""
    min_run = int(plot_w * 0.9)
    edges = []  # (y, x, run) of every long horizontal run of the frame colour
    step = max(1, min_run // 2)  # a run that long cannot fall between two samples
    for y, row in enumerate(rows):
        for x in range(0, width, step):
            if not near(row, x, FRAME, FRAME_COLOUR_SLACK):
                continue
            start, end = x, x
            while start > 0 and near(row, start - 1, FRAME, FRAME_COLOUR_SLACK):
                start -= 1
            while end < width and near(row, end, FRAME, FRAME_COLOUR_SLACK):
                end += 1
            if end - start >= min_run:
                # A device scale factor draws an edge more than one row thick: keep its top row.
                last = edges[-1] if edges else None
                if not (last and last[0] == y - 1 and last[1] == start and last[2] == end - start):
                    edges.append((y, start, end - start))
                break  # one edge per row: frames are stacked, never side by side
    frames, used = [], set()
    for i, (y, x, run) in enumerate(edges):
        if i in used:
            continue
        # The bottom edge: a run as wide, starting at the same x, as far below as the
        # plot's aspect ratio says (the frame spans plot_w + 1 by plot_h + 1 pixels at scale 1).
        want_h = (run - 1) * plot_h / plot_w + 1
        for j in range(i + 1, len(edges)):
            y2, x2, run2 = edges[j]
            if (j not in used and abs(x2 - x) <= 1 and abs(run2 - run) <= 1
                    and abs(y2 - y + 1 - want_h) <= 2):
                frames.append((x, y, run, y2 - y + 1))
                used.update((i, j))
                break
    return frames


def nearest_line_pixel(rows, width, height, px, py, tol):
    """Distance (px) from (px, py) to the nearest pixel of the line colour within tol, or None."""
    best = None
    cx, cy = int(px), int(py)
    for y in range(max(0, cy - tol), min(height, cy + tol + 1)):
        for x in range(max(0, cx - tol), min(width, cx + tol + 1)):
            if near(rows[y], x, LINE, LINE_COLOUR_SLACK):
                d = max(abs(x + 0.5 - px), abs(y + 0.5 - py))
                best = d if best is None or d < best else best
    return best


def check(args):
    parser = RssCharts()
    with open(args.html, encoding="utf-8") as f:
        parser.feed(f.read())
    charts = parser.charts
    index = [i for i, c in enumerate(charts) if c["data-unit"] == args.unit]
    if not index:
        raise Mismatch(f"{args.html}: no RSS chart for unit {args.unit!r} "
                       f"(charts: {', '.join(c['data-unit'] for c in charts) or 'none'})")
    if len(index) > 1:
        raise Mismatch(f"{args.html}: {len(index)} RSS charts for unit {args.unit!r}")
    chart = charts[index[0]]
    t0, t1 = int(chart["data-t0-ms"]), int(chart["data-t1-ms"])
    ymax = float(chart["data-ymax-kib"])
    plot_x, plot_y, plot_w, plot_h = (float(chart["data-plot-" + k]) for k in "xywh")
    if t1 <= t0 or ymax <= 0 or plot_w <= 0 or plot_h <= 0:
        raise Mismatch(f"{args.html}: chart of {args.unit!r} has a degenerate axis: {chart}")

    with open(args.points, encoding="utf-8") as f:
        points = json.load(f)

    width, height, rows = read_png(args.png)
    if rows[0] == rows[0][:3] * width and all(row == rows[0] for row in rows):
        raise Mismatch(f"{args.png}: the screenshot is blank (one colour)")
    frames = find_frames(width, rows, plot_w, plot_h)
    if len(frames) != len(charts):
        raise Mismatch(f"{args.png}: {len(frames)} RSS chart frames in the screenshot, "
                       f"the page has {len(charts)}: it did not render, or the screenshot is cut short")
    fx, fy, fw, fh = frames[index[0]]
    # The frame spans plot_w + 1 pixel columns at scale 1; a device scale factor stretches it.
    sx, sy = (fw - 1) / plot_w, (fh - 1) / plot_h
    tol = max(1, round(args.tolerance * sx))

    worst, checked, skipped, misses = 0.0, 0, 0, []
    for t_ms, kib in points:
        if not t0 <= t_ms <= t1:
            skipped += 1  # outside the time axis: clipped by the chart
            continue
        if not 0 <= kib <= ymax:
            raise Mismatch(f"{args.unit}: point [{t_ms}, {kib}] is off the chart's y axis "
                           f"[0, {ymax:.0f}] KiB: the chart was not drawn from these points")
        x = plot_x + (t_ms - t0) * plot_w / (t1 - t0)
        y = plot_y + plot_h - kib * plot_h / ymax
        px, py = fx + (x - plot_x) * sx, fy + (y - plot_y) * sy
        d = nearest_line_pixel(rows, width, height, px, py, tol)
        checked += 1
        if d is None:
            misses.append(f"[{t_ms}, {kib}] at ({px:.1f}, {py:.1f})")
        else:
            worst = max(worst, d)
    if misses:
        raise Mismatch(f"{args.unit}: {len(misses)} of {checked} points have no pixel of the RSS "
                       f"line colour within {tol} px of where they belong in {args.png}; first: "
                       + "; ".join(misses[:3]))
    if checked == 0:
        raise Mismatch(f"{args.unit}: none of the {len(points)} points is inside the chart's time axis")
    print(f"{args.unit}: {checked} points, all within {worst:.1f} px"
          f"{f' ({skipped} outside the axis, skipped)' if skipped else ''}; "
          f"chart {index[0] + 1} of {len(charts)}, frame at ({fx},{fy},{fw},{fh}), "
          f"scale {sx:.2f}x{sy:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", required=True)
    ap.add_argument("--png", required=True)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--points", required=True, help="JSON array of [t_ms, rss_kib]")
    ap.add_argument("--tolerance", type=int, default=3, help="px (default 3)")
    args = ap.parse_args()
    try:
        check(args)
    except Mismatch as e:
        print(f"report_check: FAIL: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, zlib.error) as e:
        print(f"report_check: cannot check: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
