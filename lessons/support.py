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

and the runner collects everything into ``OUT/<lesson>/results.json`` and the
tour's summary page.  A headline with a baseline says whether it beat it, and
the test suite asserts that every lesson's headline does, in ``--quick`` mode.
"""
from __future__ import annotations

import json
import os
import pathlib
import time

import minidl as md

from . import data as lesson_data

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
        self.headlines, self.figures, self.texts = [], [], []
        self.started = time.perf_counter()
        md.use(self.backend)
        md.seed(self.seed)
        last = self
        mode = "quick" if self.quick else "full"
        print(f"== {self.name}  ({mode} run, backend {self.backend}, seed {self.seed}) ==")

    def real_data(self, download_name: str):
        """Path of the real dataset: ``--data``, else a verified download when ``--download``
        was given, else None (the lesson uses its embedded, generated data).

        A failed download (offline, checksum mismatch) is not fatal: the lesson says
        why and falls back to the embedded data.
        """
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
                 higher_is_better: bool = True, fmt: str = ".4g"):
        """Record and print a headline number, compared with a baseline when given."""
        value = float(value)
        beats = None
        line = f"{label}: {value:{fmt}}"
        if baseline is not None:
            baseline = float(baseline)
            beats = value > baseline if higher_is_better else value < baseline
            line += f"   (baseline {baseline:{fmt}}: {'beaten' if beats else 'NOT beaten'})"
        print(line)
        self.headlines.append({"label": label, "value": value, "baseline": baseline,
                               "higher_is_better": higher_is_better, "beats_baseline": beats})
        return value

    def show(self, title: str, text: str):
        """Print a block of text (nearest words, samples, predictions) and keep it."""
        print(f"\n-- {title} --\n{text}\n")
        self.texts.append({"title": title, "text": text})

    def figure(self, fig, name: str, caption: str = ""):
        """Save a matplotlib figure as OUT/<lesson>/<name>.png and close it."""
        import matplotlib.pyplot as plt
        path = self.out / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.figures.append({"name": name, "path": str(path), "caption": caption})
        print(f"[figure] {path}")
        return path

    def results(self) -> dict:
        return {"lesson": self.name, "quick": self.quick, "backend": self.backend, "seed": self.seed,
                "data": self.data, "seconds": round(time.perf_counter() - self.started, 2),
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
