#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Frames asked for in any order get the same tree.

The Wireshark GUI re-dissects any frame in any order once the file is read,
and a frame's tree must be the same whenever it is drawn (STYLE.md rule 6).
sharkd does what the GUI does: `load` reads the whole capture (the first
pass), then each `frame` request dissects one frame again with a full tree.
For each capture this test

  1. asks sharkd (with the plugin, through tshark-as-user.sh) for the full
     tree of frames 1..N in order (columns, hidden items and data sources
     included): the sequential reference;
  2. in a fresh sharkd for each order, asks for the same frames shuffled with
     each seed (printed), and in reverse; some frames are asked for twice;
     every answer must equal the reference for that frame;
  3. checks that the plugin was loaded (keystroke and smtplab items);
  4. compares every keystroke.* and smtplab.* value of the reference trees
     with a sequential two-pass `tshark -2 -T fields` run of the same fields.

Not every capture can be used: Wireshark 4.0's own TCP gives some frames of
other connections a tcp.completeness that depends on the order (frames
61-62 and 96-97 of zeek_smtp.pcap, also without the plugin).

Usage: random-order.py <build dir> <capture>...
       SMTPLAB_SEEDS="<seed> ..." (default "1212 31337") chooses the shuffles.
Prints "ok - ..." / "not ok - ..." lines, then "N passed, M failed".
Stdlib only.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "tshark-as-user.sh")
# What sharkd says on stderr in console mode, besides any problem.
SHARKD_STDERR = r"^(Hello in child\.|load: filename=.*)$"
PREFIXES = ("keystroke.", "smtplab.")
SEP = "\x1f"   # tshark's aggregator: never in an escaped field value
# Frames whose tree may differ with the order they are asked for, as
# (capture file name, frame number): reason. Empty: none may.
ALLOWED = {}


class Report:
    """TAP-like lines and counts, as check-lib.sh prints them."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, what, problems):
        if problems:
            self.failed += 1
            print(f"not ok - {what}")
            for p in problems[:40]:
                print(f"  {p}")
            if len(problems) > 40:
                print(f"  ... and {len(problems) - 40} more")
        else:
            self.passed += 1
            print(f"ok - {what}")
        sys.stdout.flush()


def run(build, args, program="tshark", stdin=None):
    """Runs tshark or sharkd as the unprivileged user with the plugin;
    returns (stdout, problem or None)."""
    env = dict(os.environ, SMTPLAB_PROGRAM=program)
    env.pop("SMTPLAB_RUN_LOG", None)
    if program == "sharkd":
        env["SMTPLAB_ALLOWED_STDERR"] = SHARKD_STDERR
    p = subprocess.run([RUNNER, build] + args, input=stdin, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.decode("utf-8", "surrogateescape")
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        return out, f"{program} {' '.join(args)[:200]} failed (exit {p.returncode}): {' | '.join(err[-5:])}"
    return out, None


def sharkd_frames(build, cap, order):
    """The answers of one sharkd process to `frame` requests in this order:
    a list of (frame number, result), or a problem."""
    reqs = [{"jsonrpc": "2.0", "id": 1, "method": "load", "params": {"file": cap}}]
    for i, n in enumerate(order, 2):
        reqs.append({"jsonrpc": "2.0", "id": i, "method": "frame",
                     "params": {"frame": n, "proto": True, "hidden": True, "columns": True, "bytes": True}})
    out, problem = run(build, ["-"], "sharkd", "".join(json.dumps(r) + "\n" for r in reqs).encode())
    if problem:
        return None, problem
    answers = {}
    for line in out.splitlines():
        if line.strip():
            msg = json.loads(line)
            answers[msg.get("id")] = msg
    load = answers.get(1, {})
    if load.get("result", {}).get("status") != "OK":
        return None, f"sharkd could not load {cap}: {load}"
    got = []
    for i, n in enumerate(order, 2):
        msg = answers.get(i)
        if not msg or "result" not in msg:
            return None, f"sharkd gave no tree for frame {n}: {msg}"
        got.append((n, msg["result"]))
    return got, None


def label(node):
    return node.get("l", "?") if isinstance(node, dict) else str(node)


def differences(a, b, path=""):
    """Where two sharkd answers differ: (path of tree labels and keys, value
    in a, value in b)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k) != b.get(k):
                step = "" if k in ("tree", "n") else f" {k}:"
                yield from differences(a.get(k), b.get(k), path + step)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                step = f" [{label(x)}]" if isinstance(x, dict) else f" [{i}]"
                yield from differences(x, y, path + step)
    else:
        yield path, a, b


def short(v):
    s = json.dumps(v) if not isinstance(v, str) else repr(v)
    return s if len(s) <= 300 else s[:300] + "..."


def unescape_filter_value(v):
    """A value as a display filter writes it ("..." with \\ and \" escaped,
    or a bare number) as tshark -T fields prints it."""
    if not (len(v) >= 2 and v[0] == '"' and v[-1] == '"'):
        return v
    out, i, s = [], 0, v[1:-1]
    simple = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "0": "\0", "a": "\a", "b": "\b",
              "f": "\f", "v": "\v"}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x" and i + 3 < len(s) + 1:
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append(simple.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def tree_values(tree, booleans):
    """field -> values of the plugin's fields in a sharkd tree, in tree
    order, as tshark 4.0 -T fields prints them: an item without a value
    (an expert item) as "1", a boolean as 1 or 0."""
    values = {}
    stack = list(reversed(tree))
    while stack:
        node = stack.pop()
        f = node.get("f", "")
        if f.startswith(PREFIXES):
            name, sep, val = f.partition(" == ")
            val = unescape_filter_value(val) if sep else "1"
            if name in booleans:
                val = {"true": "1", "false": "0"}.get(val.lower(), val)
            values.setdefault(name, []).append(val)
        stack.extend(reversed(node.get("n", [])))
    return values


def top_protocols(result):
    return {node.get("f") for node in result.get("tree", [])}


def plugin_fields(build):
    out, problem = run(build, ["-G", "fields"])
    if problem:
        return None, problem
    fields = {c[2]: c[3] for c in (line.split("\t") for line in out.splitlines())
              if len(c) > 3 and c[0] == "F" and c[2].startswith(PREFIXES)}
    return fields, None


def check_capture(build, cap, fields, seeds, report):
    name = os.path.basename(cap)
    # The sequential two-pass tshark run: the frame count, and every value.
    args = ["-n", "-2", "-r", cap, "-T", "fields", "-E", "occurrence=a", "-E", f"aggregator={SEP}",
            "-e", "frame.number"] + [x for f in fields for x in ("-e", f)]
    out, problem = run(build, args)
    if problem:
        report.check(f"{name}: tshark -2 -T fields runs", [problem])
        return
    rows = [line.split("\t") for line in out.splitlines()]
    frames = [int(r[0]) for r in rows]
    n = len(frames)
    if frames != list(range(1, n + 1)) or n == 0:
        report.check(f"{name}: tshark -2 -T fields lists frames 1..N", [f"frames: {frames[:20]}..."])
        return

    sequential, problem = sharkd_frames(build, cap, frames)
    report.check(f"{name}: sharkd gives the tree of frames 1..{n} in order", [problem] if problem else [])
    if problem:
        return
    reference = dict(sequential)
    protos = set().union(*(top_protocols(r) for _, r in sequential))
    report.check(f"{name}: the plugin is loaded in sharkd (keystroke and smtplab items)",
                 [f"no {p} item in any frame" for p in ("keystroke", "smtplab") if p not in protos])

    # The reference trees against the two-pass fields, frame by frame.
    problems = []
    for row in rows:
        frame = int(row[0])
        tree = tree_values(reference[frame]["tree"], {f for f, t in fields.items() if t == "FT_BOOLEAN"})
        for field, cell in zip(fields, row[1:] + [""] * (len(fields) + 1 - len(row))):
            want = cell.split(SEP) if cell else []
            got = tree.get(field, [])
            # An empty cell is no value or one empty string.
            if got != want and not (cell == "" and got == [""]):
                problems.append(f"frame {frame}, {field}: sharkd {short(got)}, tshark -2 {short(want)}")
    report.check(f"{name}: sharkd's keystroke.*/smtplab.* values equal tshark -2 -T fields ({len(fields)} fields)",
                 problems)

    orders = []
    for seed in seeds:
        rng = random.Random(seed)
        order = frames[:]
        rng.shuffle(order)
        # Some frames twice: anywhere later, and one right after itself.
        for f in rng.sample(frames, min(n, max(5, n // 5))):
            order.insert(rng.randrange(order.index(f) + 1, len(order) + 1), f)
        i = rng.randrange(len(order))
        order.insert(i + 1, order[i])
        orders.append((f"shuffled with seed {seed}", order))
    orders.append(("in reverse", frames[::-1] + [frames[-1]]))
    for what, order in orders:
        got, problem = sharkd_frames(build, cap, order)
        if problem:
            report.check(f"{name}: frames {what}", [problem])
            continue
        problems, allowed = [], []
        for frame, result in got:
            diffs = list(differences(reference[frame], result))
            if not diffs:
                continue
            lines = [f"frame {frame}:{path} in order {short(a)}, {what} {short(b)}" for path, a, b in diffs[:8]]
            (allowed if (name, frame) in ALLOWED else problems).extend(lines)
        repeated = len(order) - len(set(order))
        for line in allowed:
            print(f"  allowed ({ALLOWED[(name, int(line.split()[1].rstrip(':')))]}): {line}")
        report.check(f"{name}: {len(order)} trees asked for {what} ({repeated} asked twice) equal the trees asked in order",
                     problems)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    build, caps = argv[1], argv[2:]
    seeds = [int(s) for s in os.environ.get("SMTPLAB_SEEDS", "1212 31337").split()]
    print(f"# seeds: {' '.join(map(str, seeds))} (SMTPLAB_SEEDS=\"...\" to choose others)")
    report = Report()
    fields, problem = plugin_fields(build)
    report.check("tshark lists the plugin's fields", [problem] if problem else [] if fields else ["none"])
    if fields:
        # sharkd reads the capture by the name in its request: a copy the
        # unprivileged user can read.
        stage = tempfile.mkdtemp(prefix="smtplab-random-order.")
        try:
            os.chmod(stage, 0o755)
            for cap in caps:
                staged = os.path.join(stage, os.path.basename(cap))
                shutil.copyfile(cap, staged)
                os.chmod(staged, 0o644)
                check_capture(build, staged, fields, seeds, report)
        finally:
            shutil.rmtree(stage)
    print(f"{report.passed} passed, {report.failed} failed")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
