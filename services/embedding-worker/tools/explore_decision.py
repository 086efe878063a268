"""Offline exploration of the household decision rule (ADR 0003): how the figures in its table were made.

Not part of the product. It embeds a speaker folder once with the worker's own GE2E encoder and augmentation
(same seeds and babble choice as the registry), caches the vectors, then replays the registry's rule in numpy:
multi-condition voiceprints, optional household centring / WCCN / AS-norm, thresholds calibrated from the
household's own samples at a target FAR per speech-duration bin, and each test speaker held out as a stranger
from everything that judges it. `oracle_frr_at_far2` is insight only: the FRR at 2 % FAR with the threshold
chosen on the test clips themselves, i.e. how separable the scores are, whatever the calibration.

    cd services/embedding-worker
    uv run --frozen python tools/explore_decision.py embed ../../../shared/audio/household-dev /tmp/hh.npz
    uv run --frozen python tools/explore_decision.py rule /tmp/hh.npz none,centred none,centred,quality
    uv run --frozen python tools/explore_decision.py houses /tmp/hh.npz 6 "none,centred"
"""

from __future__ import annotations

import csv
import hashlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import soundfile as sf

COPIES = 16
ENROLL = 3
MIN_BIN_TRIALS = 50


def l2(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def bin_of(seconds: np.ndarray) -> np.ndarray:
    return np.where(seconds < 2, 0, np.where(seconds < 4, 1, 2))


def _rows(root: Path) -> list[tuple[str, str, str]]:
    # A manifest with a role column decides (as `speakers eval --manifest` does); otherwise, as `--enroll 3`
    # does, the first files of each speaker folder are enrolled (dev's manifest lists files, not roles).
    manifest = root / "manifest.csv"
    if manifest.exists():
        listed = list(csv.DictReader(manifest.open()))
        if listed and "role" in listed[0]:
            return [(r["speaker"], str(root / r["path"]), r["role"]) for r in listed]
    rows = []
    for speaker in sorted(p.name for p in root.iterdir() if p.is_dir()):
        files = sorted(f for f in (root / speaker).iterdir() if f.suffix in (".flac", ".wav"))
        rows += [(speaker, str(f), "enroll" if i < ENROLL else "test") for i, f in enumerate(files)]
    return rows


def embed(root: Path, out: Path) -> None:
    from speaker_worker.augment import augment
    from speaker_worker.models.ge2e import load_ge2e
    from speaker_worker.quality import measure
    from speaker_worker.speech import voiced_ms

    encoder = load_ge2e(device="cpu", threads=1, log=logging.getLogger())
    rows = _rows(root)
    audio = {p: sf.read(p, dtype="float32")[0] for _, p, _ in rows}
    first: dict[str, str] = {}
    for speaker, path, role in rows:
        if role == "enroll":
            first.setdefault(speaker, path)
    speakers = sorted(first)
    cols: dict[str, list] = {
        "spk": [],
        "group": [],
        "kind": [],
        "vec": [],
        "secs": [],
        "snr": [],
        "babble": [],
    }
    for speaker, path, role in rows:
        clip = audio[path]
        clips, kinds, babble = [clip], ["test"], [False]
        if role == "enroll":
            # Babble from up to four other speakers, chosen from the seed as the registry chooses.
            seed = int.from_bytes(hashlib.sha1(path.encode()).digest()[:4], "big")
            others = sorted(
                (o for o in speakers if o != speaker),
                key=lambda o: hashlib.sha1(f"{seed}:{o}".encode()).digest()[:4],
            )
            copies = augment(clip, COPIES, seed, [audio[first[o]] for o in others[:4]])
            clips = [clip] + [c.samples for c in copies]
            kinds = ["clean"] + ["augmented"] * COPIES
            babble = [False] + [c.condition.get("noise") == "babble" for c in copies]
        for c, k, b, v in zip(clips, kinds, babble, encoder.embed_batch(clips), strict=True):
            snr = measure(c).get("snrDb", np.nan)
            for key, value in zip(cols, (speaker, path, k, v, voiced_ms(c) / 1000, snr, b), strict=True):
                cols[key].append(value)
    np.savez(out, **{k: np.array(v) for k, v in cols.items()})


@dataclass(frozen=True)
class Rule:
    norm: str = "none"  # none | as-norm
    space: str = "plain"  # plain | centred | wccn
    # bins: the product's per-duration-bin quantiles; quality: a Gaussian whose mean and spread are linear in
    # log speech seconds and SNR, fitted to the stranger trials; its (1 - target FAR) point at the probe
    thresholds: str = "bins"
    # 0: the speaker's mean vector (the product); k > 0: the mean of the probe's k best cosines to the samples
    nearest: int = 0
    top_k: int = 50
    target_far: float = 0.01

    @staticmethod
    def parse(text: str) -> Rule:
        """`norm,space[,bins|quality][,knnK]`: e.g. `none,centred,quality`, `none,centred,bins,knn10`."""
        norm, space, *rest = text.split(",")
        thresholds = rest[0] if rest else "bins"
        if thresholds not in ("bins", "quality"):
            raise ValueError(f"thresholds: bins or quality, not {thresholds}")
        nearest = int(rest[1].removeprefix("knn")) if len(rest) > 1 else 0
        if nearest and norm != "none":
            raise ValueError("nearest-sample scoring is explored without AS-norm")
        return Rule(norm=norm, space=space, thresholds=thresholds, nearest=nearest)


def fit_space(vec: np.ndarray, spk: np.ndarray, rule: Rule):
    if rule.space == "plain":
        return None
    speakers = sorted(set(spk))
    means = np.stack([vec[spk == s].mean(0) for s in speakers])
    mu = means.mean(0)
    if rule.space == "centred":
        return mu, np.eye(vec.shape[1])
    within = sum((vec[spk == s] - means[i]).T @ (vec[spk == s] - means[i]) for i, s in enumerate(speakers))
    within = within / len(vec)
    d = vec.shape[1]
    within = 0.5 * within + 0.5 * np.trace(within) / d * np.eye(d)
    w, v = np.linalg.eigh(within)
    return mu, v @ np.diag(w**-0.5) @ v.T


def project(space, x: np.ndarray) -> np.ndarray:
    return x if space is None else l2((x - space[0]) @ space[1])


class Household:
    """The registry's scoring index and calibration over the samples of the enrolled speakers."""

    def __init__(self, samples: dict[str, np.ndarray], rule: Rule):
        self.rule, self.raw = rule, samples["vec"]
        self.spk, self.group, self.secs = samples["spk"], samples["group"], samples["secs"]
        self.snr, self.babble = samples["snr"], samples["babble"]
        self.speakers = np.array(sorted(set(self.spk)))
        self.idx = {s: np.where(self.spk == s)[0] for s in self.speakers}
        self._use(fit_space(self.raw, self.spk, rule))
        self.trials = self._strangers()
        self._thresholds = self._quality_model() if rule.thresholds == "quality" else self._bins()

    def _use(self, space) -> None:
        self.space = space
        self.vec = project(space, self.raw)
        self.vp = np.stack([l2(self.vec[self.idx[s]].mean(0)) for s in self.speakers])

    def _stats(self, p: np.ndarray, skip: np.ndarray):
        scores = np.where(skip, -np.inf, p @ self.vec.T)
        top = -np.partition(-scores, self.rule.top_k - 1, axis=1)[:, : self.rule.top_k]
        return top.mean(1), np.maximum(top.std(1), 1e-3)

    def _score(self, p: np.ndarray, j: int, leave_out: list[str]) -> np.ndarray:
        vp = self.vp[j]
        if self.rule.nearest:
            near = p @ self.vec[self.idx[self.speakers[j]]].T
            k = min(self.rule.nearest, near.shape[1])
            return -np.partition(-near, k - 1, axis=1)[:, :k].mean(1)
        raw = p @ vp
        if self.rule.norm == "none":
            return raw
        skip = np.broadcast_to(np.isin(self.spk, leave_out), (len(p), len(self.spk)))
        me, se = self._stats(np.broadcast_to(vp, p.shape), skip)
        mt, st = self._stats(p, skip)
        return 0.5 * ((raw - me) / se + (raw - mt) / st)

    def _strangers(self) -> np.ndarray:
        """Each stranger trial's best score, speech seconds and SNR; no babble copies, as in the registry."""
        strangers = []
        whole = self.space
        for h in self.speakers:
            # The stranger is left out of the space too, as a real stranger is.
            keep = self.spk != h
            self._use(fit_space(self.raw[keep], self.spk[keep], self.rule) if whole is not None else None)
            own = self.idx[h][~self.babble[self.idx[h]]]
            best = np.max(
                [self._score(self.vec[own], j, [h, t]) for j, t in enumerate(self.speakers) if t != h],
                axis=0,
            )
            strangers += list(zip(best, self.secs[own], self.snr[own], strict=True))
        self._use(whole)
        return np.array(strangers)

    def _bins(self):
        def quantile(x: np.ndarray) -> float:
            x = np.sort(x)
            return x[len(x) - int(np.floor(self.rule.target_far * len(x))) - 1] + 1e-9

        trials = self.trials
        overall, bins = quantile(trials[:, 0]), bin_of(trials[:, 1])
        per_bin = np.array(
            [
                quantile(trials[bins == b, 0]) if (bins == b).sum() >= MIN_BIN_TRIALS else overall
                for b in range(3)
            ]
        )
        return lambda secs, snr: per_bin[bin_of(secs)]

    def _quality_model(self):
        def features(secs: np.ndarray, snr: np.ndarray) -> np.ndarray:
            snr = np.clip(np.nan_to_num(snr, nan=20.0), 0, 40) / 10
            return np.stack([np.ones_like(secs), np.log(np.maximum(secs, 0.3)), snr], axis=1)

        x, y = features(self.trials[:, 1], self.trials[:, 2]), self.trials[:, 0]
        mean = np.linalg.lstsq(x, y, rcond=None)[0]
        # log |residual| is linear in log sd, offset by E[log |N(0, 1)|] = -0.635
        spread = np.linalg.lstsq(x, np.log(np.abs(y - x @ mean) + 1e-6), rcond=None)[0]
        z = NormalDist().inv_cdf(1 - self.rule.target_far)

        def at(secs: np.ndarray, snr: np.ndarray) -> np.ndarray:
            f = features(secs, snr)
            return f @ mean + z * np.exp(f @ spread + 0.635)

        return at

    def threshold(self, secs: np.ndarray, snr: np.ndarray) -> np.ndarray:
        return self._thresholds(secs, snr)

    def identify(self, probes: np.ndarray) -> np.ndarray:
        p = project(self.space, probes)
        return np.stack([self._score(p, j, [s]) for j, s in enumerate(self.speakers)], axis=1)


def _subset(data: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in data.items()}


def _eer(genuine: np.ndarray, impostor: np.ndarray) -> float:
    ts = np.sort(np.concatenate([genuine, impostor]))
    far = 1 - np.searchsorted(np.sort(impostor), ts) / len(impostor)
    frr = np.searchsorted(np.sort(genuine), ts) / len(genuine)
    k = np.argmin(np.abs(far - frr))
    return float((far[k] + frr[k]) / 2)


def _frr_at(genuine: np.ndarray, impostor: np.ndarray, far: float) -> float:
    impostor = np.sort(impostor)
    t = impostor[len(impostor) - int(np.floor(far * len(impostor))) - 1] + 1e-9
    return float((genuine < t).mean())


def load(path: str) -> dict[str, np.ndarray]:
    z = np.load(path)
    data = {k: z[k] for k in z.files}
    data["vec"] = l2(data["vec"].astype(np.float64))
    # Caches made before SNR and babble were recorded: no babble flag, SNR unknown.
    data.setdefault("babble", np.zeros(len(data["vec"]), bool))
    data["babble"] = data["babble"].astype(bool)
    data.setdefault("snr", np.full(len(data["vec"]), np.nan))
    return data


def evaluate(data: dict[str, np.ndarray], rule: Rule) -> dict[str, float]:
    enrolled = data["kind"] != "test"
    samples, tests = _subset(data, enrolled), _subset(data, ~enrolled)
    house = Household(samples, rule)
    scores = house.identify(tests["vec"])
    truth = np.searchsorted(house.speakers, tests["spk"])
    rows = np.arange(len(truth))
    best, thresholds = scores.argmax(1), house.threshold(tests["secs"], tests["snr"])
    right = best == truth
    accepted = right & (scores.max(1) >= thresholds)
    others = np.ones_like(scores, bool)
    others[rows, truth] = False
    margins, accepts = [], []
    for h in house.speakers:
        held = Household(_subset(samples, samples["spk"] != h), rule)
        mine = tests["spk"] == h
        s = held.identify(tests["vec"][mine]).max(1) - held.threshold(tests["secs"][mine], tests["snr"][mine])
        margins += list(s)
        accepts += list(s >= 0)
    return {
        "rank1": float(right.mean()),
        "eer": _eer(scores[rows, truth], scores[others]),
        "far": float(np.mean(accepts)),
        "frr": float(1 - accepted.mean()),
        "oracle_frr_at_far2": _frr_at(
            np.where(right, scores.max(1) - thresholds, -np.inf), np.array(margins), 0.02
        ),
    }


def houses(data: dict[str, np.ndarray], size: int, rule: Rule, draws: int = 8) -> dict[str, float]:
    """Households of `size` of the speakers; every other speaker's test clips are strangers."""
    enrolled = data["kind"] != "test"
    samples, tests = _subset(data, enrolled), _subset(data, ~enrolled)
    everyone = np.array(sorted(set(samples["spk"])))
    rng = np.random.default_rng(1)
    out = []
    for _ in range(draws):
        members = rng.choice(everyone, size, replace=False)
        house = Household(_subset(samples, np.isin(samples["spk"], members)), rule)
        scores = house.identify(tests["vec"])
        home = np.isin(tests["spk"], members)
        best = house.speakers[scores.argmax(1)]
        over = scores.max(1) >= house.threshold(tests["secs"], tests["snr"])
        out.append(
            (
                (best == tests["spk"])[home].mean(),
                1 - ((best == tests["spk"]) & over)[home].mean(),
                over[~home].mean(),
            )
        )
    rank1, frr, far = np.mean(out, axis=0)
    return {"rank1": rank1, "frr": frr, "far": far}


def main(argv: list[str]) -> None:
    command = argv[0]
    if command == "embed":
        embed(Path(argv[1]), Path(argv[2]))
        return
    data = load(argv[1])
    if command == "rule":
        for text in argv[2:]:
            r = evaluate(data, Rule.parse(text))
            print(text, " ".join(f"{k}={v * 100:.1f}%" for k, v in r.items()), flush=True)
    elif command == "houses":
        for text in argv[3:]:
            r = houses(data, int(argv[2]), Rule.parse(text))
            print(
                f"{argv[2]} speakers", text, " ".join(f"{k}={v * 100:.1f}%" for k, v in r.items()), flush=True
            )


if __name__ == "__main__":
    main(sys.argv[1:])
