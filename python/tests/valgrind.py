#!/usr/bin/env python3
"""Run a short workload of the syncplus module under valgrind (memcheck)
and fail on any error or definite leak that involves the module.

    valgrind.py [--python EXE]   (PYTHONPATH must find the module)

CPython itself is not valgrind-clean (its small-int cache and free lists
trip memcheck; types and interned objects live until exit), so the report
is filtered: an error block counts when one of its frames is the module's
(sppy_*, sp_*, or the syncplus .so). Counted: invalid reads/writes/frees,
uses of uninitialised values, bad syscall parameters, and "definitely
lost" blocks. PYTHONMALLOC=malloc, so every allocation is seen.
Exit status 0 when clean, 1 otherwise, 77 when valgrind is absent.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# The module's frames: its functions (sppy_*, and the static ones, named by
# its files), the library's (sp_*), or the .so without debug information.
OURS = re.compile(r"\bsppy_|\bsp_[a-z]|syncplus\.cpython|"
                  r"\((module|locks|condition|semaphore|event|barrier|"
                  r"queue)\.c:\d+\)")
COUNTED = re.compile(r"Invalid (read|write|free)|uninitialised|Syscall param|"
                     r"Mismatched free|definitely lost|Source and destination")

WORKLOAD = r"""
import gc, queue, signal, threading, syncplus

def run():
    q, sq = syncplus.Queue(4), syncplus.SimpleQueue()
    c, e = syncplus.Condition(), syncplus.Event()
    b = syncplus.Barrier(2, action=lambda: None)
    s = syncplus.BoundedSemaphore(2)
    lk, r = syncplus.Lock(), syncplus.RLock()

    def worker():
        for i in range(300):
            q.put([i])
            sq.put((i,))
            with c:
                c.notify()
        b.wait()
        with s:
            e.wait()

    t = threading.Thread(target=worker)
    t.start()
    for i in range(300):
        q.get()
        q.task_done()
        sq.get()
        with c:
            c.wait(0.0001)
    b.wait()
    e.set()
    t.join()
    q.join()
    for call in (lambda: q.get(timeout=0.001), sq.get_nowait,
                 lambda: lk.release(), lambda: r.release(),
                 lambda: s.release()):
        try:
            call()
        except (queue.Empty, RuntimeError, ValueError):
            pass
    with r:
        with r:
            st = r._release_save()
            r._acquire_restore(st)
    pq, lq = syncplus.PriorityQueue(2), syncplus.LifoQueue()
    for i in (3, 1, 2):
        lq.put([i])
    pq.put((2, [2]))
    pq.put((1, [1]))
    pq.maxsize = 3
    pq.put((0, [0]))
    pq.get()
    try:
        pq.put(object())
    except TypeError:
        pass
    lq.shutdown(immediate=True)
    pq.shutdown(immediate=True)
    cyc = syncplus.Queue()
    cyc.put(cyc)
    q.put(object())

    class Interrupt(Exception):
        pass

    def handler(signum, frame):
        raise Interrupt

    signal.signal(signal.SIGALRM, handler)
    lk.acquire()
    for call in (lk.acquire, syncplus.Queue().get, lambda: c.__enter__()
                 and c.wait()):
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        try:
            call()
        except Interrupt:
            pass
    if c._is_owned():
        c.release()

run()
gc.collect()
print("workload done")
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    vg = shutil.which("valgrind")
    if vg is None:
        print("SKIP: valgrind is not installed")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "workload.py")
        log = os.path.join(tmp, "valgrind.log")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        env = dict(os.environ, PYTHONMALLOC="malloc")
        cmd = [vg, "--tool=memcheck", "--leak-check=full",
               "--show-leak-kinds=definite", "--num-callers=30",
               f"--log-file={log}", args.python, script]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=600)
        with open(log) as f:
            report = f.read()
    if p.returncode != 0 or "workload done" not in p.stdout:
        print(f"FAIL: the workload failed under valgrind (exit "
              f"{p.returncode})\n{p.stdout}\n{p.stderr}\n{report[-4000:]}")
        return 1
    blocks, cur = [], []
    for line in report.splitlines():
        body = re.sub(r"^==\d+== ?", "", line)
        if body.strip() == "":
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(body)
    if cur:
        blocks.append(cur)
    ours = [b for b in blocks
            if COUNTED.search(b[0]) and any(OURS.search(x) for x in b)]
    counted = sum(1 for b in blocks if COUNTED.search(b[0]))
    print(f"valgrind: {counted} error/leak blocks in all, {len(ours)} "
          f"involving the module")
    for b in ours:
        print("\n".join(b) + "\n")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
