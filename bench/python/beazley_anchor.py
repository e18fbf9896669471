"""The real-CPython anchor of bench_beazley (issue 10): Beazley's experiment
on the python3 found on the machine, with a threaded Python fib server and a
perf2 client (tiny requests in a tight loop on one connection), both shipped
here. Prints CSV rows in the bench format (bench/bench.h):

    beazley,cpython,cpython/perf2,alone_rps|during_rps|kept|p50_us|p99_us|
                                  alone_p50_us|alone_p99_us,VALUE

Usage: beazley_anchor.py [--mode smoke|quick|full]   (the driver)
       beazley_anchor.py server | perf2 PORT SECONDS | long PORT
Everything listens on 127.0.0.1; every socket has a timeout; the server
exits by itself after MAX_LIFE seconds, and the driver kills it when done.
"""
import os
import socket
import subprocess
import sys
import threading
import time

LONG_N = 45
MAX_LIFE = 120.0
TIMEOUT = 10.0


def fib(n):
    if n <= 2:
        return 1
    return fib(n - 1) + fib(n - 2)


def fib_handler(client):
    client.settimeout(MAX_LIFE)
    while True:
        try:
            req = client.recv(100)
        except OSError:
            break
        if not req:
            break
        n = int(req)
        result = fib(n)
        resp = str(result).encode('ascii') + b'\n'
        try:
            client.send(resp)
        except OSError:
            break
    client.close()


def server():
    threading.Timer(MAX_LIFE, lambda: os._exit(0)).start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    sock.listen(16)
    print(sock.getsockname()[1], flush=True)
    while True:
        client, addr = sock.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=fib_handler, args=(client,),
                         daemon=True).start()


def perf2(port, seconds):
    sock = socket.create_connection(('127.0.0.1', port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lat = []
    now = time.perf_counter
    end = now() + seconds
    n = 0
    while True:
        t0 = now()
        if t0 >= end:
            break
        sock.send(b'1')
        sock.recv(100)
        lat.append(now() - t0)
        n += 1
    sock.close()
    lat.sort()
    p50 = lat[len(lat) // 2] if lat else 0
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0
    print('%f %f %f' % (n / seconds, p50 * 1e6, p99 * 1e6), flush=True)


def long_client(port):
    sock = socket.create_connection(('127.0.0.1', port), timeout=MAX_LIFE)
    sock.send(str(LONG_N).encode('ascii'))
    try:
        sock.recv(100)
    except OSError:
        pass


def run_perf2(port, seconds):
    out = subprocess.run([sys.executable, __file__, 'perf2', str(port),
                          str(seconds)], capture_output=True, text=True,
                         timeout=seconds + 30)
    rps, p50, p99 = (float(x) for x in out.stdout.split())
    return rps, p50, p99


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def driver(mode):
    seconds = {'smoke': 0.2, 'quick': 0.5, 'full': 1.5}[mode]
    rounds = {'smoke': 1, 'quick': 1, 'full': 3}[mode]
    res = {k: [] for k in ('a', 'a50', 'a99', 'd', 'd50', 'd99', 'kept')}
    for _ in range(rounds):
        srv = subprocess.Popen([sys.executable, __file__, 'server'],
                               stdout=subprocess.PIPE, text=True)
        lf = None
        try:
            port = int(srv.stdout.readline())
            a = run_perf2(port, seconds)
            lf = subprocess.Popen([sys.executable, __file__, 'long',
                                   str(port)])
            time.sleep(0.2)
            d = run_perf2(port, seconds)
        finally:
            if lf is not None:
                lf.kill()
                lf.wait()
            srv.kill()
            srv.wait()
        for k, x in zip(('a', 'a50', 'a99'), a):
            res[k].append(x)
        for k, x in zip(('d', 'd50', 'd99'), d):
            res[k].append(x)
        res['kept'].append(d[0] / a[0] if a[0] > 0 else 0)
    m = {k: median(v) for k, v in res.items()}
    row = 'beazley,cpython,cpython/perf2,%s,%.6g'
    print(row % ('alone_rps', m['a']))
    print(row % ('during_rps', m['d']))
    print(row % ('kept', m['kept']))
    print(row % ('p50_us', m['d50']))
    print(row % ('p99_us', m['d99']))
    print(row % ('alone_p50_us', m['a50']))
    print(row % ('alone_p99_us', m['a99']))


def main(argv):
    if len(argv) >= 2 and argv[1] == 'server':
        server()
    elif len(argv) >= 4 and argv[1] == 'perf2':
        perf2(int(argv[2]), float(argv[3]))
    elif len(argv) >= 3 and argv[1] == 'long':
        long_client(int(argv[2]))
    else:
        mode = 'quick'
        args = argv[1:]
        if '--ratios' in args:
            return 0
        if '--mode' in args and args.index('--mode') + 1 < len(args):
            mode = args[args.index('--mode') + 1]
        if mode not in ('smoke', 'quick', 'full'):
            print('--mode must be smoke, quick or full', file=sys.stderr)
            return 2
        print('beazley anchor: %s' % sys.version.split()[0], file=sys.stderr)
        driver(mode)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
