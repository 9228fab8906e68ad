"""Writes tests/fixtures/reference/schedulers.json from models/reference/schedulers.py:
whole multi-step runs of the LCM and Euler-ancestral (trailing) samplers for the
scheduler configs of the demo pack and the catalog packs, with fixed initial
latents, a fixed deterministic stand-in model and fixed ancestral noise, plus
timestep tables over every step count a pack could ask for.

Run from the repository root:  /usr/bin/python3 models/reference/write_scheduler_fixtures.py
Deterministic (numpy default_rng with fixed seeds); needs numpy only.

The stand-in model: eps(x_in, t)[j] = 0.8 x_in[j] + 0.3 sin(0.37 j + 0.013 t),
where x_in is the scaled model input. The fixture stores every step's model
input and eps, so the TypeScript test feeds the stored eps and checks its own
model input against the stored one (the formula is only how the numbers were made).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import schedulers as S  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "reference", "schedulers.json")
SIZE = 64  # latents [1, 4, 4, 4]


def config_of(path):
    with open(os.path.join(ROOT, path)) as f:
        m = json.load(f)
    cfg = dict(m["scheduler"])
    if m["pipeline"] == "demo":
        cfg["kind"] = "lcm"  # the demo pipeline always samples with LCM, using the pack's parameters
    return cfg


SOURCES = {
    "demo": "public/packs/demo/manifest.json",
    "sd-turbo": "models/catalog/sd-turbo.json",
    "lcm-dreamshaper-v7": "models/catalog/lcm-dreamshaper-v7.json",
}


def f32(a):
    """Inputs the TypeScript receives as Float32Array are made float32-exact here, so both sides
    start from the same numbers and only the arithmetic differs."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def model(x_in, t):
    j = np.arange(x_in.size, dtype=np.float64)
    return f32(0.8 * x_in + 0.3 * np.sin(0.37 * j + 0.013 * t))


def r(a):
    """Arrays as lists of floats with 12 significant digits (float32 needs 9)."""
    return [float(f"{v:.12g}") for v in np.asarray(a, dtype=np.float64).ravel()]


def run_case(name, cfg, steps, strength, seed, source=None):
    rng = np.random.default_rng(seed)
    z0 = f32(rng.standard_normal(SIZE))
    init = f32(rng.standard_normal(SIZE) * 0.8) if strength < 1 else None
    noises = [f32(rng.standard_normal(SIZE)) for _ in range(steps)]
    sched = S.make(cfg, steps, strength)
    start, records, used = S.run(sched, z0, model, noises, init)
    abar = S.alphas_cumprod(cfg)
    case = {
        "name": name,
        "source": source,
        "config": cfg,
        "steps": steps,
        "strength": strength,
        "timesteps": sched.timesteps,
        "initNoiseSigma": float(sched.init_noise_sigma),
        "modelInputScales": [float(sched.model_input_scale(i)) for i in range(len(sched.timesteps))],
        "alphasCumprod": [float(abar[t]) for t in sched.timesteps],
        "noise": r(z0),
        "init": r(init) if init is not None else None,
        "start": r(start),
        "ancestralNoise": [r(z) for z in used],
        "records": [
            {"t": rec["t"], "modelInput": r(rec["modelInput"]), "eps": r(rec["eps"]),
             "denoised": r(rec["denoised"]), "next": r(rec["next"])}
            for rec in records
        ],
    }
    if cfg["kind"] == "euler-ancestral-trailing":
        case["sigmas"] = [float(s) for s in sched.sigmas]
    return case


def main():
    configs = {k: config_of(v) for k, v in SOURCES.items()}
    linear = {**configs["demo"], "betaSchedule": "linear", "betaStart": 0.0001, "betaEnd": 0.02}
    runs = []
    seed = 100
    plan = [
        ("demo", [1, 2, 3, 4, 8], [1.0]),
        ("demo", [2], [0.5]),
        ("demo", [4], [0.3, 0.75]),
        ("demo", [3], [0.9]),
        ("lcm-dreamshaper-v7", [4, 6], [1.0]),
        ("lcm-dreamshaper-v7", [2], [0.6]),
        ("sd-turbo", [1, 2, 3, 4], [1.0]),
        ("sd-turbo", [4], [0.5, 0.75]),
        ("sd-turbo", [2], [0.75]),
        ("sd-turbo", [3], [0.9]),
    ]
    for key, step_list, strengths in plan:
        for steps in step_list:
            for strength in strengths:
                seed += 1
                runs.append(run_case(f"{key} {steps} steps strength {strength:g}", configs[key], steps, strength,
                                     seed, SOURCES[key]))
    seed += 1
    runs.append(run_case("demo with linear betas, 4 steps", linear, 4, 1.0, seed))
    # With the packs' timestep_scaling of 10, c_skip < 7e-6 and c_out > 0.99999 at every timestep
    # (s = 10 t >= 190), so the boundary condition barely shows in a run; a small scaling makes
    # c_skip and c_out matter, so a slip in them cannot pass.
    small = {**configs["demo"], "timestepScaling": 0.01}
    for steps, strength in ((4, 1.0), (3, 0.3)):
        seed += 1
        runs.append(run_case(f"demo with timestepScaling 0.01, {steps} steps strength {strength:g}", small, steps,
                             strength, seed))

    lcm_cfg = configs["demo"]
    lcm_tables = []
    for strength in (1.0, 0.75, 0.5, 0.3, 0.99, 0.1):
        count = int(lcm_cfg["originalSteps"] * strength)
        lcm_tables.append({"strength": strength,
                           "timesteps": {str(n): S.lcm_timesteps(lcm_cfg, n, strength) for n in range(1, count + 1)}})
    T = configs["sd-turbo"]["trainTimesteps"]
    trailing = {str(n): S.trailing_timesteps(T, n) for n in list(range(1, 65)) + [100, 128, 250, 333, 500, 1000]}
    euler_img2img = []
    for n in range(1, 9):
        for strength in (0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, 1.0):
            if min(int(n * strength), n) < 1:
                continue
            euler_img2img.append({"steps": n, "strength": strength,
                                  "timesteps": S.EulerAncestral(configs["sd-turbo"], n, strength).timesteps})
    abar = S.alphas_cumprod(configs["demo"])
    out = {
        "about": "Written by models/reference/write_scheduler_fixtures.py from models/reference/schedulers.py "
                 "(numpy, float64, from the papers); do not edit by hand.",
        "model": "eps(x_in, t)[j] = 0.8 x_in[j] + 0.3 sin(0.37 j + 0.013 t)",
        "latentSize": SIZE,
        "alphasCumprod": {"config": configs["demo"],
                          "at": {str(t): float(abar[t]) for t in (0, 1, 19, 249, 499, 749, 999)}},
        "runs": runs,
        "lcmTimesteps": {"config": lcm_cfg, "tables": lcm_tables},
        "trailingTimesteps": {"trainTimesteps": T, "tables": trailing},
        "eulerImg2imgTimesteps": euler_img2img,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.relpath(OUT, ROOT), os.path.getsize(OUT), "bytes,", len(runs), "runs")


if __name__ == "__main__":
    main()
