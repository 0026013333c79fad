#!/usr/bin/python3
"""bench/follow_bench.py: how fast `bsonpipe copy --follow` applies the source's oplog, and how far
behind it stays under a constant write load. Two minimongod --replSet processes on loopback, the
writer is pymongo (Debian's python3-pymongo); nothing here is timed by the code under test.

  /usr/bin/python3 bench/follow_bench.py [BUILD_DIR=build/release] [N=20000] [RATE=500] [SECONDS=20]

1. inserts: the follow is stopped (SIGSTOP), N small documents are written (insert_many, 1000 at a
   time), the follow is continued (SIGCONT): the apply rate is N / (time from SIGCONT until the
   target holds all N), so the writer's own speed is not in it.
2. updates: the same with one $inc per document (update_many: one oplog entry per document, $v:2
   deltas); the rate is N / (time from SIGCONT until the target's sum of the counter matches).
3. lag: RATE inserts per second for SECONDS seconds; every 0.25 s the entries the target still
   lacks (source count - target count) are sampled; lag in seconds = pending / RATE.
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import pymongo

build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
RATE = int(sys.argv[3]) if len(sys.argv) > 3 else 500
SECONDS = int(sys.argv[4]) if len(sys.argv) > 4 else 20
bsonpipe = os.path.join(build, "tools/bsonpipe/bsonpipe")
minimongod = os.path.join(build, "tools/minimongod/minimongod")
work = tempfile.mkdtemp(prefix="follow_bench.")
procs = []


def start_server():
    p = subprocess.Popen([minimongod, "--port", "0", "--replSet", "rs0", "--oplogV2Updates"],
                         stdout=subprocess.PIPE, text=True)
    procs.append(p)
    for line in p.stdout:
        m = re.search(r"listening on \S+:(\d+)", line)
        if m:
            return "mongodb://127.0.0.1:%s/" % m.group(1)
    raise SystemExit("minimongod did not start")


def wait_until(pred, timeout=600):
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise SystemExit("timed out")
        time.sleep(0.005)
    return time.monotonic()


try:
    src_uri, dst_uri = start_server(), start_server()
    src = pymongo.MongoClient(src_uri, directConnection=True)
    dst = pymongo.MongoClient(dst_uri, directConnection=True)
    src.bench.seed.insert_one({"_id": 0})  # something to copy
    cutover = os.path.join(work, "cutover")
    follow = subprocess.Popen([bsonpipe, "copy", "--from", src_uri, "--to", dst_uri, "--follow",
                               "--cutover-file", cutover, "--progress", "none"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(follow)
    # The follow is tailing once its resume point exists on the target.
    wait_until(lambda: "state" in dst["bsonpipe_follow"].list_collection_names())
    load = open("/proc/loadavg").read().split()[:3]
    print("follow_bench: %s, N=%d, RATE=%d/s for %d s, load %s" % (bsonpipe, N, RATE, SECONDS, " ".join(load)))

    # 1. inserts, applied from a backlog
    os.kill(follow.pid, signal.SIGSTOP)
    for i in range(0, N, 1000):
        src.bench.ins.insert_many([{"_id": j, "x": j, "s": "abcdefghij"} for j in range(i, min(N, i + 1000))])
    t0 = time.monotonic()
    os.kill(follow.pid, signal.SIGCONT)
    t_done = wait_until(lambda: dst.bench.ins.estimated_document_count() >= N)
    print("inserts: a backlog of %d entries applied in %.2f s: %.0f entries/s" % (N, t_done - t0, N / (t_done - t0)))

    # 2. updates ($v:2 deltas), applied from a backlog
    os.kill(follow.pid, signal.SIGSTOP)
    src.bench.ins.update_many({}, {"$inc": {"x": 1}})
    want = sum(range(N)) + N
    total = lambda: next(dst.bench.ins.aggregate([{"$group": {"_id": None, "s": {"$sum": "$x"}}}]), {"s": 0})["s"]
    t0 = time.monotonic()
    os.kill(follow.pid, signal.SIGCONT)
    t_done = wait_until(lambda: total() == want)
    print("updates: a backlog of %d entries applied in %.2f s: %.0f entries/s" % (N, t_done - t0, N / (t_done - t0)))

    # 3. steady-state lag under RATE inserts/s
    samples = []
    written = 0
    t0 = time.monotonic()
    next_sample = t0
    while time.monotonic() - t0 < SECONDS:
        due = int((time.monotonic() - t0) * RATE)
        if due > written:
            src.bench.lag.insert_many([{"_id": j, "t": time.time()} for j in range(written, due)])
            written = due
        if time.monotonic() >= next_sample:
            pending = written - dst.bench.lag.estimated_document_count()
            samples.append(max(0, pending))
            next_sample += 0.25
        time.sleep(0.002)
    t_done = wait_until(lambda: dst.bench.lag.estimated_document_count() >= written)
    samples.sort()
    p95 = samples[int(0.95 * (len(samples) - 1))]
    print("lag at %d inserts/s: %d samples, pending entries median %d, p95 %d, max %d (median %.3f s, max %.3f s); "
          "caught up %.2f s after the writer stopped"
          % (RATE, len(samples), statistics.median(samples), p95, samples[-1],
             statistics.median(samples) / RATE, samples[-1] / RATE, t_done - t0 - SECONDS))

    open(cutover, "w").close()
    out, err = follow.communicate(timeout=300)
    print("follow exit %d: %s" % (follow.returncode, out.strip()))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
