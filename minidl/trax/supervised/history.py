"""``trax.supervised.history``: every logged value, by mode ("train", "eval") and metric name."""
from __future__ import annotations


class History:
    """``history.get('eval', 'metrics/Accuracy')`` -> [(step, value), ...] in logging order."""

    def __init__(self):
        self._values = {}

    def append(self, mode, metric, step, value):
        self._values.setdefault(mode, {}).setdefault(metric, []).append((int(step), float(value)))

    def get(self, mode, metric):
        return list(self._values.get(mode, {}).get(metric, []))

    @property
    def modes(self):
        return sorted(self._values)

    def metrics_for_mode(self, mode):
        return sorted(self._values.get(mode, {}))

    def to_dict(self):
        return {"_values": {m: {k: [list(p) for p in v] for k, v in d.items()} for m, d in self._values.items()}}

    @classmethod
    def from_dict(cls, json_dict):
        h = cls()
        for mode, metrics in (json_dict or {}).get("_values", {}).items():
            for metric, pairs in metrics.items():
                for step, value in pairs:
                    h.append(mode, metric, step, value)
        return h

    def __len__(self):
        return sum(len(v) for d in self._values.values() for v in d.values())
