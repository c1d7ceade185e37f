"""What a lesson needs from its runner: settings, headline results and figures.

A lesson is a plain script in ``# %%`` cells.  Its first cell does

    from lessons.support import Lesson
    L = Lesson(__file__)

and then ``L.quick``, ``L.data`` (the path its loader reads, see ``lessons/data.py``),
``L.out``, ``L.seed``, ``L.download`` (and ``L.vectors``, ``L.sentence``, ``L.pair``
for the lessons that take them) hold what
``python -m lessons run NAME [--quick] [--data PATH] ...`` asked for (or the
defaults, when the file is opened as a notebook or run with ``python FILE``).

As it goes, the lesson calls

    L.headline("validation accuracy", acc, baseline=0.5)    # printed + recorded
    L.figure(fig, "curves")                                 # saved as PNG
    L.show("nearest words to 'good'", text)                 # printed + recorded
    L.claim("agreement", "The GRU keeps subject-verb agreement across a distractor; "
            "the bigram cannot.", held=gru > 0.8 > bigram, numbers={"GRU": gru, "bigram": bigram})

and the runner collects everything into ``OUT/<lesson>/results.json`` and the
tour's summary page.  A headline with a baseline says whether it beat it.  A
**claim** is the lesson's phenomenon in one sentence, the numbers that test it
and whether it held in this run; the test suite asserts that every claim holds
in ``--quick`` mode.  A phenomenon that only a full run can show is declared
with ``full_run_only=True``: a quick run then says so in one line, with the
full run's numbers (recorded in ``lessons/full_runs.json`` by
``python -m lessons readme-table``), instead of printing a contradicting number.

Timings go through ``L.time``: interleaved repeats, the best of several, beside an
operation count, so the shape of a cost curve survives a busy machine.
"""
from __future__ import annotations

import json
import math
import os
import pathlib
import time

import minidl as md

from . import data as lesson_data

FULL_RUNS = pathlib.Path(__file__).resolve().parent / "full_runs.json"

# Set by the runner before a lesson file executes; read by Lesson().
_settings = {}
# The Lesson object of the most recent run, for the runner to collect.
last = None


def configure(**settings):
    _settings.clear()
    _settings.update(settings)


class Lesson:
    def __init__(self, file: str):
        global last
        self.name = pathlib.Path(file).stem
        s = dict(_settings)
        self.quick = bool(s.get("quick", os.environ.get("MINIDL_QUICK") == "1"))
        # --data, resolved by the runner to the file or folder the loader reads (lessons/data.py);
        # opened as a notebook or run as `python FILE`: $MINIDL_DATA_DIR when it holds the dataset
        self.data = s["data"] if "data" in s else lesson_data.resolve(self.name, None)
        self.data = None if self.data is None else str(self.data)
        self.download = bool(s.get("download", False))
        self.vectors = s.get("vectors")            # --vectors PATH: a GloVe text file
        self.sentence = s.get("sentence")          # --sentence TEXT: the user's own sentence
        self.pair = s.get("pair")                  # --pair TEXT1 TEXT2: the user's own pair
        self.seed = int(s.get("seed", 0))
        self.backend = s.get("backend", "numpy")
        self.out = pathlib.Path(s.get("out", "out")) / self.name
        self.out.mkdir(parents=True, exist_ok=True)
        self.headlines, self.figures, self.texts, self.claims = [], [], [], []
        self.download_name = None
        self.started = time.perf_counter()
        md.use(self.backend)
        md.seed(self.seed)
        last = self
        mode = "quick" if self.quick else "full"
        print(f"== {self.name}  ({mode} run, backend {self.backend}, seed {self.seed}) ==")

    def real_data(self, download_name: str):
        """Path of the real dataset: ``--data``, else a verified download when ``--download``
        was given, else None (the lesson uses its embedded, generated data).
        ``download_name`` is also what the summary page offers as ``--download``.

        A failed download (offline, checksum mismatch) is not fatal: the lesson says
        why and falls back to the embedded data.
        """
        self.download_name = download_name
        if self.data:
            return self.data
        if not self.download:
            return None
        from minidl import datasets
        try:
            self.data = str(datasets.download(download_name))
        except (datasets.DownloadError, OSError) as exc:
            print(f"[data] could not download {download_name!r}; using the embedded data instead.\n{exc}")
        return self.data

    # --- recording results
    def headline(self, label: str, value: float, baseline: float | None = None,
                 higher_is_better: bool = True, fmt: str = ".4g", main: bool = False):
        """Record and print a headline number, compared with a baseline when given.

        ``main=True`` marks the lesson's headline for the summary page (by default the
        first headline that has a baseline)."""
        value = float(value)
        beats = None
        line = f"{label}: {value:{fmt}}"
        if baseline is not None:
            baseline = float(baseline)
            beats = value > baseline if higher_is_better else value < baseline
            line += f"   (baseline {baseline:{fmt}}: {'beaten' if beats else 'NOT beaten'})"
        print(line)
        self.headlines.append({"label": label, "value": value, "baseline": baseline,
                               "higher_is_better": higher_is_better, "beats_baseline": beats, "main": main})
        return value

    def claim(self, key: str, statement: str, held: bool, numbers: dict, full_run_only: bool = False,
              timing: bool = False):
        """Record and print one claim of the lesson: the phenomenon in one sentence,
        the numbers that test it, and whether it held in this run.

        key:       a short stable name ("agreement"), used to find the full run's numbers;
        numbers:   {what: value} -- the evidence, shown beside the sentence;
        full_run_only: the phenomenon needs the full run's data or budget.  In a quick
                   run the claim is then not judged: the page says so in one line, with
                   the full run's numbers, rather than show a quick number that contradicts it.
        timing:    the claim compares measured times (taken with ``L.time``).  The tests
                   still require every other claim to hold, but a timing can lose to a
                   machine busy enough, and then the page says so plainly.
        """
        numbers = {k: float(v) for k, v in numbers.items()}
        full = full_numbers(self.name, key)
        if full_run_only and self.quick:
            status, held = "full run only", None
        else:
            status, held = ("held" if held else "did not hold"), bool(held)
        entry = {"key": key, "statement": statement, "status": status, "held": held,
                 "numbers": numbers, "full_run": full, "timing": timing}
        self.claims.append(entry)
        print(claim_line(entry, quick=self.quick))
        return held

    def time(self, runners: dict, repeats: int = 9, min_repeat_s: float = 0.03, warmup: int = 1) -> dict:
        """Seconds per call of each zero-argument function in ``runners`` ({label: fn}).

        The repeats of the different functions are interleaved (A B, B A, ...), each
        repeat runs the function enough times to last ``min_repeat_s``, and the result
        is the BEST repeat: another process can only ever add time, so the minimum of
        several is what the code itself costs, and a comparison made of minima cannot
        be flipped by a busy machine the way a single timing can.  Returns
        {label: {"best": s, "median": s, "repeats": n}} (benchmarks/timing.py does the work).
        """
        from benchmarks.timing import Runner, measure
        t = measure([Runner(k, fn) for k, fn in runners.items()], warmup=warmup, repeats=repeats,
                    min_repeat_s=min_repeat_s)
        return {k: {"best": float(min(v.per_step_s)), "median": float(sorted(v.per_step_s)[len(v.per_step_s) // 2]),
                    "repeats": len(v.per_step_s)} for k, v in t.items()}

    def show(self, title: str, text: str):
        """Print a block of text (nearest words, samples, predictions) and keep it."""
        print(f"\n-- {title} --\n{text}\n")
        self.texts.append({"title": title, "text": text})

    def figure(self, fig, name: str, caption: str):
        """Tidy, check and save a matplotlib figure as OUT/<lesson>/<name>.png, then close it.

        caption: one or two sentences saying what to see in it (the summary page prints
        it under the picture).  What ``lessons.figures.problems`` finds (overlapping
        labels, an image without a colour bar, ...) is printed and recorded; the tests
        require a quick run's figures to have none.
        """
        import matplotlib.pyplot as plt
        from . import figures
        figures.tidy(fig)
        trouble = figures.problems(fig)
        path = self.out / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.figures.append({"name": name, "path": str(path), "caption": caption, "problems": trouble})
        print(f"[figure] {path}")
        for t in trouble:
            print(f"[figure problem] {name}: {t}")
        return path

    def results(self) -> dict:
        return {"lesson": self.name, "quick": self.quick, "backend": self.backend, "seed": self.seed,
                "data": self.data, "download": self.download_name,
                "seconds": round(time.perf_counter() - self.started, 2), "claims": self.claims,
                "headlines": self.headlines, "figures": self.figures, "texts": self.texts}

    def save_results(self) -> pathlib.Path:
        path = self.out / "results.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.results(), indent=2))
        os.replace(tmp, path)
        return path


def plt():
    """matplotlib.pyplot with the file-only Agg backend (lessons never open windows)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


# ---------------------------------------------------------------------- claims and counts
def fmt_number(v: float) -> str:
    """A number as a reader wants it: 0.83, 1.2e-07, 15,044."""
    if v is None or not math.isfinite(v):
        return str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e7):
        return f"{v:.2g}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def fmt_numbers(numbers: dict) -> str:
    return ", ".join(f"{k} {fmt_number(v)}" for k, v in numbers.items())


def claim_line(c: dict, quick: bool, mark: bool = True) -> str:
    """One line per claim: the mark, the sentence, this run's numbers (or the full run's)."""
    symbol = {"held": "✓", "did not hold": "✗", "full run only": "…"}[c["status"]]
    full = c.get("full_run")
    if c["status"] == "full run only":
        return (f"{symbol + ' ' if mark else ''}{c['statement']} Needs the full run; full run: "
                + (fmt_numbers(full["numbers"]) if full else "not recorded yet (run it without --quick)") + ".")
    line = f"{symbol + ' ' if mark else ''}{c['statement']} ({fmt_numbers(c['numbers'])}"
    if c["status"] == "did not hold":
        line += "; did NOT hold in this run"
    if quick and full:
        line += f"; full run: {fmt_numbers(full['numbers'])}"
    return line + ")"


def full_numbers(lesson: str, key: str):
    """The full run's record of one claim, {"held", "numbers"}, from lessons/full_runs.json."""
    try:
        record = json.loads(FULL_RUNS.read_text())
    except (OSError, ValueError):
        return None
    for c in record.get("lessons", {}).get(lesson, {}).get("claims", []):
        if c["key"] == key:
            return {"held": c["held"], "numbers": c["numbers"]}
    return None


def count(n: float, unit: str) -> str:
    """An operation count for a reader: 5.4 M multiply-adds, 1.2 G bytes."""
    for size, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g} {prefix} {unit}"
    return f"{n:.3g} {unit}"
