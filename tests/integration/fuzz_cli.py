#!/usr/bin/env python3
"""Feeds the real hpsearch a few hundred generated bad inputs and checks the promise of the README:
every user mistake ends with exit 2, a message of a few lines naming the file or flag, and nothing
written (no database, no trial folder); no input, however hostile, crashes it (issue #15).

Each case is a mutated space file (deleted, duplicated or retyped keys, huge, tiny and non-finite
numbers, deep nesting, invalid UTF-8, cut text) and random --set overrides, run as
    hpsearch SPACE.json --db DIR/x.db --trials 2 --progress none
alone (one process, no mpirun) in a folder of its own, two at a time. Seeded: a failure prints
the seed and the case's number, and the case's files are kept under the build's fuzz_failures/.

usage: fuzz_cli.py HPSEARCH SOURCE_DIR [--seed S] [--cases N] [--jobs J]
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

MAX_LINES, MAX_BYTES = 10, 2000
DEPTH_LIMIT = 64  # core/json_input.hpp: kMaxJsonDepth

# Synthetic trainers only: a case that is accepted runs two trials in milliseconds.
BASES = [
    None,  # spaces/branin.json, read at start
    {
        "trainer": {"type": "synthetic", "function": "branin"},
        "objective": {"metric": "value", "mode": "min"},
        "sampler": {"type": "tpe", "seed": 3},
        "pruner": {"type": "none"},
        "retries": {"failed": 0},
        "params": {
            "x1": {"$uniform": [-5, 10]},
            "x2": {"$quniform": [0, 15, 0.5]},
            "extra": {"$choice": [1, {"$randint": [0, 4]}, {"deep": [{"$normal": [0, 1]}, 2]}]},
            "lr": {"$loguniform": [1e-5, 1e-1]},
            "n": {"$qloguniform": [16, 256, 16]},
            "s": {"$lognormal": [-3, 1]},
        },
    },
]

HOSTILE_NUMBERS = ["1e400", "-1e309", "1e-400", "18446744073709551616", "18446744073709551615", "9223372036854775808",
                   "-9223372036854775809", "9007199254740993", "1.7976931348623157e308", "-1.7976931348623157e308",
                   "4.9e-324", "0", "-0", "-1", "1e20", "NaN", "Infinity", "-Infinity", "0x10", "1.", ".5", "01"]
HOSTILE_VALUES = [None, True, False, "", "x", "\u00e9", "\U0001F600", [], {}, [[]], {"$uniform": []},
                  {"$uniform": [1, 0]}, {"$randint": [0, 18446744073709551615]}, {"$choice": []}, {"$bogus": 1},
                  {"$uniform": [0, 1], "other": 2}, {"type": 3}, 1.5, -7, 2 ** 70, 1e308, [1, "a", None]]
DISTRIBUTIONS = ["$uniform", "$loguniform", "$quniform", "$qloguniform", "$randint", "$normal", "$lognormal", "$choice"]
KEYS = ["trainer", "params", "objective", "trials", "sampler", "pruner", "retries", "resources", "description",
        "type", "function", "seed", "metric", "mode", "failed", "gpus_per_trial", "x1", "x2", "steps", "noise"]
BAD_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80", b"\xe2\x82"]


def deep(depth, rng):
    value = rng.choice([1, "x", None, {"$uniform": [0, 1]}])
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


def deep_text(depth, rng):
    # Built as text: Python's json module would recurse this deep itself.
    opens, closes = [], []
    for _ in range(depth):
        if rng.random() < 0.5:
            opens.append("[")
            closes.append("]")
        else:
            opens.append('{"k":')
            closes.append("}")
    return "".join(opens) + "1" + "".join(reversed(closes))


def random_value(rng):
    r = rng.random()
    if r < 0.35:
        return rng.choice(HOSTILE_VALUES)
    if r < 0.5:
        return deep(rng.choice([DEPTH_LIMIT - 3, DEPTH_LIMIT + 1, 200]), rng)
    if r < 0.75:
        kind = rng.choice(DISTRIBUTIONS)
        args = [rng.choice([0, 1, -1, 1e-300, 1e300, -1e308, 2 ** 53 + 1, 2 ** 63, 0.5, "a", None, []])
                for _ in range(rng.randint(0, 4))]
        return {kind: args}
    return rng.choice([rng.randint(-10 ** 6, 10 ** 6), rng.random() * 10 ** rng.randint(-300, 300), "str" * rng.randint(0, 5)])


def paths_of(value, prefix=""):
    """Every JSON path in `value`, in --set's syntax (a.b[2].c)."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            p = k if not prefix else prefix + "." + k
            out.append(p)
            out.extend(paths_of(v, p))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            p = "%s[%d]" % (prefix, i)
            out.append(p)
            out.extend(paths_of(v, p))
    return out


def containers(value):
    out = [value] if isinstance(value, (dict, list)) else []
    for v in (value.values() if isinstance(value, dict) else value if isinstance(value, list) else []):
        out.extend(containers(v))
    return out


def mutate_document(doc, rng):
    for _ in range(rng.randint(1, 3)):
        holders = containers(doc)
        holder = rng.choice(holders)
        if isinstance(holder, dict) and holder:
            key = rng.choice(list(holder))
            op = rng.random()
            if op < 0.25:
                del holder[key]  # deleted key
            elif op < 0.5:
                holder[key] = random_value(rng)  # retyped value
            elif op < 0.65:
                holder[key + rng.choice(["", "s", "_", "X"])] = holder[key]  # duplicated / misspelt key
            elif op < 0.8:
                holder[rng.choice(KEYS)] = random_value(rng)  # a key from elsewhere
            else:
                holder[key] = [holder[key]] if rng.random() < 0.5 else {"$choice": [holder[key]]}
        elif isinstance(holder, list) and holder:
            i = rng.randrange(len(holder))
            op = rng.random()
            if op < 0.3:
                del holder[i]
            elif op < 0.7:
                holder[i] = random_value(rng)
            else:
                holder.append(random_value(rng))
    return doc


def mutate_text(text, rng):
    """Mutations JSON objects cannot express: number tokens, bytes, cut text, duplicated keys."""
    data = text.encode()
    op = rng.random()
    if op < 0.35:  # a number replaced by a hostile one
        numbers = [m for m in re.finditer(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?", data)]
        if numbers:
            m = rng.choice(numbers)
            data = data[:m.start()] + rng.choice(HOSTILE_NUMBERS).encode() + data[m.end():]
    elif op < 0.55:  # invalid UTF-8 inside a string
        quotes = [i for i, c in enumerate(data) if c == ord('"')]
        i = rng.choice(quotes) + 1 if quotes else 0
        data = data[:i] + rng.choice(BAD_BYTES) + data[i:]
    elif op < 0.65:  # cut short
        data = data[:rng.randrange(len(data))]
    elif op < 0.8:  # a value nested very deep, as text
        depth = rng.choice([DEPTH_LIMIT, DEPTH_LIMIT + 1, 1000, 30000])
        data = data.replace(b'"params": {', b'"params": {"deep": ' + deep_text(depth, rng).encode() + b", ", 1)
    elif op < 0.9:  # the same key twice
        data = data.replace(b'"trainer":', b'"trainer": 1, "trainer":', 1)
    else:  # a random byte flipped
        i = rng.randrange(len(data))
        data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    return data


def random_set(doc, rng):
    """One --set KEY=VALUE, as bytes (keys and values may be invalid UTF-8)."""
    paths = paths_of(doc) or ["trials"]
    r = rng.random()
    if r < 0.4:
        key = rng.choice(paths)
    elif r < 0.7:
        key = rng.choice(paths) + rng.choice(["[abc]", "[]", "[18446744073709551616]", "[99999999999]", "[-1]", "[0",
                                               ".", "..x", "[0][0]", ".$uniform", "[1].x"])
    elif r < 0.8:
        key = ".".join(["a"] * rng.choice([10, DEPTH_LIMIT + 5, 20000]))
    else:
        key = rng.choice(KEYS) + rng.choice(["", ".type", "[0]", ".seed"])
    key = key.encode()
    if rng.random() < 0.1:
        key += rng.choice(BAD_BYTES)
    r = rng.random()
    if r < 0.5:
        value = json.dumps(random_value(rng)).encode()
    elif r < 0.65:
        value = rng.choice(HOSTILE_NUMBERS).encode()
    elif r < 0.75:
        # Brackets only: one argument must stay under the kernel's 128 KiB (MAX_ARG_STRLEN).
        depth = rng.choice([DEPTH_LIMIT, 1000, 30000])
        value = ("[" * depth + "1" + "]" * depth).encode()
    elif r < 0.85:
        value = b"text" + rng.choice(BAD_BYTES)
    else:
        value = rng.choice([b"", b"[", b"{", b'"', b"null", b"tpe", b"{\"type\": 3}", b"\"\\ud800\""])
    return key + b"=" + value


def make_case(number, seed, base_texts):
    rng = random.Random(seed * 100003 + number)
    base_index = rng.randrange(len(base_texts))
    doc = json.loads(base_texts[base_index])
    sets = []
    kind = rng.random()
    if kind < 0.45:
        text = json.dumps(mutate_document(doc, rng)).encode()
    elif kind < 0.8:
        text = mutate_text(json.dumps(doc), rng)
    else:
        text = json.dumps(doc).encode()
    if kind >= 0.6 or rng.random() < 0.2:
        sets = [random_set(doc, rng) for _ in range(rng.randint(1, 3))]
    return text, sets


def run_case(hpsearch, number, text, sets, root):
    folder = os.path.join(root, "case%04d" % number)
    os.makedirs(folder)
    space = os.path.join(folder, "space.json")
    with open(space, "wb") as f:
        f.write(text)
    argv = [hpsearch.encode(), space.encode(), b"--db", os.path.join(folder, "x.db").encode(), b"--trials", b"2",
            b"--progress", b"none"]
    for s in sets:
        argv += [b"--set", s]
    # Started alone, a search initialises no MPI (app/main.cpp): a case costs the program's own
    # start-up only, and its checks are the ones a search under mpirun makes on rank 0.
    start = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        code, output = done.returncode, done.stdout
    except subprocess.TimeoutExpired as e:
        code, output = "timeout", e.stdout or b""
    elapsed = time.monotonic() - start
    problems = []
    # 4: accepted, and every trial FAILed (a mutated value the trainer refuses only when it runs).
    if code not in (0, 2, 4):
        problems.append("exit code %s (expected 0, 2 or 4)" % code)
    if code == 2:
        lines = output.decode("utf-8", "replace").splitlines()
        if len(lines) > MAX_LINES or len(output) > MAX_BYTES:
            problems.append("message of %d lines, %d bytes (at most %d, %d)" % (len(lines), len(output), MAX_LINES, MAX_BYTES))
        if not output.strip():
            problems.append("no message")
        left = sorted(set(os.listdir(folder)) - {"space.json"})
        if left:
            problems.append("refused, but left %s behind" % left)
    return number, code, output, problems, elapsed, argv


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("hpsearch")
    parser.add_argument("source_dir")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("HPSEARCH_FUZZ_SEED", "15")))
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=3)
    args = parser.parse_args()
    hpsearch = os.path.abspath(args.hpsearch)
    with open(os.path.join(args.source_dir, "spaces", "branin.json")) as f:
        base_texts = [f.read()] + [json.dumps(b) for b in BASES[1:]]

    root = tempfile.mkdtemp(prefix="hpsearch-fuzz-")
    started = time.monotonic()
    # The program's start-up, alone: what each case costs at least.
    _, code, output, _, startup, _ = run_case(hpsearch, 9999, base_texts[0].encode(), [], root)
    if code != 0:
        sys.exit("fuzz: the unmutated spaces/branin.json failed (exit %s):\n%s" % (code, output.decode("utf-8", "replace")))

    cases = [make_case(n, args.seed, base_texts) for n in range(args.cases)]
    failures, codes, times = [], {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_case, hpsearch, n, text, sets, root) for n, (text, sets) in enumerate(cases)]
        for future in concurrent.futures.as_completed(futures):
            number, code, output, problems, elapsed, argv = future.result()
            codes[code] = codes.get(code, 0) + 1
            times.append(elapsed)
            if problems:
                failures.append((number, code, output, problems, argv))
    wall = time.monotonic() - started

    if failures:
        keep = os.path.join(os.getcwd(), "fuzz_failures")
        os.makedirs(keep, exist_ok=True)
        for number, code, output, problems, argv in sorted(failures, key=lambda f: f[0])[:20]:
            folder = os.path.join(keep, "case%04d" % number)
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(os.path.join(root, "case%04d" % number), folder)
            print("FAIL case %d (seed %d): %s\n  argv: %r\n  output: %s" %
                  (number, args.seed, "; ".join(problems), [a.decode("utf-8", "backslashreplace") for a in argv[1:]],
                   output[-600:].decode("utf-8", "replace")))
        print("fuzz: %d of %d cases failed; their files are under %s" % (len(failures), args.cases, keep))
    shutil.rmtree(root, ignore_errors=True)
    print("fuzz: seed %d, %d cases, exit codes %s, start-up %.3f s, mean case %.3f s, %.1f s in all over %d jobs" %
          (args.seed, args.cases, dict(sorted(codes.items(), key=str)), startup, sum(times) / max(1, len(times)), wall, args.jobs))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
