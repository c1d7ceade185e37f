"""How the lessons draw: figures a learner can read, and a check that they are.

Every figure a lesson saves goes through ``Lesson.figure``, which calls

    tidy(fig)        fixes what can be fixed without asking: log axes get plain tick
                     labels (1, 2, 5, 10, 20 ... rather than 2x10^0), an axis labelled
                     "epoch" gets integer ticks;
    problems(fig)    lists what a reader would trip over and only the lesson can fix:
                     labels that overlap, an image without a colour bar, a legend on
                     top of the data, two labelled lines that look the same in grey.

The lesson tests assert that ``problems`` is empty for every figure of a quick run,
so a figure that becomes unreadable fails a test instead of a learner.

Helpers for the lessons: ``place_labels`` (point labels that never overlap: a label
with no free spot is left out), ``legend`` (inside the axes where it covers no
data, else outside on the right) and ``STYLES`` (line styles that differ in grey).
"""
from __future__ import annotations

import math

import numpy as np

# Colour, line style and marker: any two differ in line style or marker, so they
# stay apart when printed in grey.
STYLES = [dict(color="tab:blue", ls="-", marker="o"), dict(color="tab:orange", ls="--", marker="s"),
          dict(color="tab:green", ls="-.", marker="^"), dict(color="tab:red", ls=":", marker="D"),
          dict(color="tab:purple", ls="-", marker="v"), dict(color="tab:brown", ls="--", marker="P")]


def style(k: int, markers: bool = True, **override) -> dict:
    """The k-th entry of STYLES as plot keyword arguments (without markers when asked)."""
    s = dict(STYLES[k % len(STYLES)])
    if not markers:
        s.pop("marker")
    s.update(override)
    return s


# ------------------------------------------------------------------ automatic fixes
def _plain(value: float, _pos=None) -> str:
    if value == 0 or not math.isfinite(value):
        return "0"
    if abs(value) >= 1:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"
    return f"{value:.{max(1, -math.floor(math.log10(abs(value))))}f}".rstrip("0").rstrip(".") or "0"


def _plain_log_axis(axis, lo: float, hi: float):
    """Plain numbers at 1-2-5 steps on a log axis spanning less than about six decades."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    for subs in ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)):
        ticks = [m * 10.0 ** e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
                 for m in subs if lo <= m * 10.0 ** e <= hi]
        if len(ticks) >= 3:
            break
    axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=30))
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_formatter(NullFormatter())


def tidy(fig):
    """Plain tick labels on log axes of modest range; integer ticks on epoch axes."""
    from matplotlib.ticker import MaxNLocator
    for ax in fig.axes:
        for axis, get_lim, scale in ((ax.xaxis, ax.get_xlim, ax.get_xscale()), (ax.yaxis, ax.get_ylim, ax.get_yscale())):
            lo, hi = sorted(get_lim())
            if scale == "log" and lo > 0 and 1e-4 <= lo and hi <= 1e7:
                _plain_log_axis(axis, lo, hi)
            if "epoch" in axis.get_label().get_text().lower() and scale == "linear":
                axis.set_major_locator(MaxNLocator(integer=True))


# ------------------------------------------------------------------ the check
def _texts(fig):
    """Every visible, non-empty text a reader reads, but tick labels: titles, annotations, labels."""
    out = []
    if getattr(fig, "_suptitle", None) is not None:
        out.append(fig._suptitle)
    out += list(fig.texts)
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title] + list(ax.texts)
    unique = list({id(t): t for t in out}.values())          # the suptitle is also in fig.texts
    return [t for t in unique if t.get_visible() and t.get_text().strip()]


def _drawn_tick_labels(axis):
    """The major tick labels matplotlib actually draws: those of ticks inside the view."""
    lo, hi = sorted(axis.get_view_interval())
    pad = 1e-9 * max(abs(lo), abs(hi), 1.0)
    return [lab for tick in axis.get_major_ticks() if tick.get_visible() and lo - pad <= tick.get_loc() <= hi + pad
            for lab in (tick.label1, tick.label2) if lab.get_visible()]


def _overlap(a, b, slack=1.0) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack) and (min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def _is_data_line(line) -> bool:
    """A plotted series, not an axhline/axvline reference (those use axes coordinates on one side)."""
    return line.get_transform().contains_branch(line.axes.transData) and len(line.get_xdata()) >= 2 \
        and not line.get_label().startswith("_child") and line.get_visible()


def _line_points(line, per_segment=12):
    xy = np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) > 1 and line.get_linestyle() not in ("None", "", " "):
        t = np.linspace(0, 1, per_segment)[:, None, None]
        xy = (xy[:-1][None] * (1 - t) + xy[1:][None] * t).reshape(-1, 2)
    return line.get_transform().transform(xy) if len(xy) else xy


def _legend_covers(ax, legend, renderer) -> list[str]:
    box, frame = legend.get_window_extent(renderer), ax.get_window_extent(renderer)

    def drawn(pts, artist):             # a clipped artist draws nothing outside its axes (a legend may sit there)
        if not artist.get_clip_on() or not len(pts):
            return pts
        return pts[(pts[:, 0] >= frame.x0) & (pts[:, 0] <= frame.x1) & (pts[:, 1] >= frame.y0) & (pts[:, 1] <= frame.y1)]

    hits = []
    for line in ax.lines:
        if _is_data_line(line):
            pts = drawn(_line_points(line), line)
            if len(pts) and ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)).any():
                hits.append(line.get_label())
    for coll in ax.collections:
        offsets = coll.get_offsets()
        if len(offsets) and coll.get_offset_transform().contains_branch(ax.transData):
            pts = drawn(coll.get_offset_transform().transform(np.asarray(offsets, float)), coll)
            if ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)).any():
                hits.append(coll.get_label())
    for patch in ax.patches:
        if type(patch).__name__ == "Rectangle" and patch.get_transform().contains_branch(ax.transData) \
                and patch.get_height() and patch.get_width():
            if _overlap(patch.get_window_extent(renderer), box, slack=2.0):
                hits.append(patch.get_label() or "a bar")
    return hits


def _grey_key(line):
    """What tells a line apart without colour: its dash pattern and its marker."""
    ls = line.get_linestyle()
    dashes = getattr(line, "_unscaled_dash_pattern", (None, None))[1]
    return ("-" if ls in ("-", "solid") else ls), tuple(dashes or ()), str(line.get_marker())


def problems(fig) -> list[str]:
    """What a reader would trip over in ``fig`` (empty when the figure is readable)."""
    if not hasattr(fig.canvas, "get_renderer"):          # a bare Figure (minidl's own plots make no pyplot window)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    # 1. overlapping texts (titles, annotations, point labels, axis labels, tick labels); the
    #    tick labels of one axis are laid out by matplotlib and only checked against the rest
    texts = [(t, None) for t in _texts(fig)]
    for ax in fig.axes:
        texts += [(ax.xaxis.label, None), (ax.yaxis.label, None)]
        texts += [(t, id(axis)) for axis in (ax.xaxis, ax.yaxis) for t in _drawn_tick_labels(axis)]
    texts = [(t, g) for t, g in texts if t.get_visible() and t.get_text().strip()]
    boxes = [t.get_window_extent(renderer) for t, _ in texts]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            (a, ga), (b, gb) = texts[i], texts[j]
            if (ga is None or ga != gb) and _overlap(boxes[i], boxes[j]):
                found.append(f"overlapping labels {a.get_text()!r} and {b.get_text()!r}")
    # 1b. axis labels and tick labels that run into another panel
    frames = [(ax, ax.get_window_extent(renderer)) for ax in fig.axes if ax.get_visible()]
    for ax in fig.axes:
        for t in [ax.xaxis.label, ax.yaxis.label] + _drawn_tick_labels(ax.xaxis) + _drawn_tick_labels(ax.yaxis):
            if t.get_visible() and t.get_text().strip():
                box = t.get_window_extent(renderer)
                for other, frame in frames:
                    if other is not ax and _overlap(box, frame, slack=2.0):
                        found.append(f"the label {t.get_text()!r} runs into another panel ({other.get_title()!r})")
                        break
    # 2. images without a colour scale
    images = [im for ax in fig.axes for im in ax.images]
    keyed = {(im.get_cmap().name, *im.get_clim()) for im in images if im.colorbar is not None}
    for im in images:
        if im.colorbar is None and (im.get_cmap().name, *im.get_clim()) not in keyed:
            found.append(f"an image without a colour bar ({im.axes.get_title()!r})")
    for ax in fig.axes:
        # 3. a legend drawn over the data
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            covered = _legend_covers(ax, legend, renderer)
            if covered:
                found.append(f"the legend of {ax.get_title()!r} covers data ({', '.join(sorted(set(covered)))})")
        # 4. labelled lines that look alike in grey-scale
        seen = {}
        for line in ax.lines:
            label = line.get_label()
            if label.startswith("_") or not line.get_visible():
                continue
            key = _grey_key(line)
            if key in seen:
                found.append(f"lines {seen[key]!r} and {label!r} differ only by colour ({ax.get_title()!r})")
            seen.setdefault(key, label)
        # 5. plain tick labels: no "2 x 10^0" on a log axis, whole numbers on an epoch axis
        for axis, labels in ((ax.xaxis, ax.get_xticklabels() + ax.get_xticklabels(minor=True)),
                             (ax.yaxis, ax.get_yticklabels() + ax.get_yticklabels(minor=True))):
            if any("times" in t.get_text() for t in labels):
                found.append(f"tick labels like {next(t.get_text() for t in labels if 'times' in t.get_text())!r} "
                             f"({ax.get_title()!r})")
            if "epoch" in axis.get_label().get_text().lower():
                lo, hi = sorted(axis.get_view_interval())
                if any(lo <= v <= hi and not float(v).is_integer() for v in axis.get_ticklocs()):
                    found.append(f"fractional epoch ticks ({ax.get_title()!r})")
    return found


# ------------------------------------------------------------------ helpers for lessons
def place_labels(ax, xs, ys, labels, fontsize=8, colors=None, offsets=None, **text_kw) -> int:
    """Label points (xs[k], ys[k]) with labels[k], each where it overlaps no other label.

    Call it after the axes' limits and the figure's layout are final (colour bars
    added): positions are measured on the drawn figure.  Labels are placed in the
    order given (put the important ones first); one that finds no free spot among
    the candidate offsets is left out.  Returns how many were left out.
    """
    fig = ax.figure
    if not hasattr(fig.canvas, "get_renderer"):          # a bare Figure (minidl's own plots make no pyplot window)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    taken = [t.get_window_extent(renderer) for t in _texts(fig)]
    offsets = offsets or [(4, 3), (4, -11), (-4, 3), (-4, -11), (0, 9), (0, -15), (10, 12), (10, -20),
                          (-10, 12), (-10, -20), (16, -4), (-16, -4), (0, 20), (0, -26)]
    frame = ax.get_window_extent(renderer)
    dropped = 0
    for k, (x, y, text) in enumerate(zip(xs, ys, labels)):
        kw = dict(text_kw) if colors is None else dict(text_kw, color=colors[k])
        for dx, dy in offsets:
            ha = "left" if dx > 0 else "right" if dx < 0 else "center"
            t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                            ha=ha, **kw)
            box = t.get_window_extent(renderer)
            inside = box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
            if inside and not any(_overlap(box, other) for other in taken):
                taken.append(box)
                break
            t.remove()
        else:
            dropped += 1
    return dropped


def legend(ax, **kw):
    """A legend inside the axes where it covers no data; else outside, on the right."""
    fig = ax.figure
    fig.canvas.draw()                                    # one draw: a legend's box is then computed on request
    renderer = fig.canvas.get_renderer()
    for loc in ("best", "upper right", "upper left", "lower left", "lower right", "center right", "center left"):
        lg = ax.legend(loc=loc, **kw)
        if not _legend_covers(ax, lg, renderer):
            return lg
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)
