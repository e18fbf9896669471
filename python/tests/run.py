#!/usr/bin/env python3
"""Run one suite of the syncplus module's tests; ctest calls it.

    run.py SUITE [--backend NAME] [--expect-dir DIR]

SUITE is lock_tests or test_queue (CPython's own Lib/test/lock_tests.py and
test_queue.py classes, run against the module: cpython_lock_tests.py,
cpython_test_queue.py), or api, signals, fork, leaks (the module's own
tests: test_api.py, ...). --backend and --expect-dir check that the module
imported is the one under test (its backend and directory). Exit status: 0
when every test passed, 1 otherwise, 77 (ctest's SKIP_RETURN_CODE) with a
printed reason when the suite cannot run here (no `test` package).
"""
import argparse
import faulthandler
import importlib
import os
import sys
import unittest

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SUITES = {
    "lock_tests": "cpython_lock_tests",
    "test_queue": "cpython_test_queue",
    "api": "test_api",
    "signals": "test_signals",
    "fork": "test_fork",
    "leaks": "test_leaks",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", choices=sorted(SUITES))
    ap.add_argument("--backend")
    ap.add_argument("--expect-dir")
    ap.add_argument("-k", dest="pattern", action="append",
                    help="only tests matching this substring")
    args = ap.parse_args()

    import syncplus
    print(f"syncplus {syncplus.__version__} (backend {syncplus.backend}) "
          f"from {syncplus.__file__}")
    print(f"python {sys.version.split()[0]} at {sys.executable}")
    if args.backend and syncplus.backend != args.backend:
        print(f"FAIL: expected the {args.backend} backend")
        return 1
    if args.expect_dir and (os.path.realpath(os.path.dirname(
            syncplus.__file__)) != os.path.realpath(args.expect_dir)):
        print(f"FAIL: expected the module in {args.expect_dir}")
        return 1

    if args.suite in ("lock_tests", "test_queue"):
        try:
            importlib.import_module("test.support")
            importlib.import_module("test." + args.suite)
        except ImportError as e:
            print(f"SKIP: {sys.executable} has no usable test package "
                  f"(test.{args.suite}: {e}); CPython ships it, Debian in "
                  f"libpython{sys.version_info[0]}.{sys.version_info[1]}"
                  f"-testsuite")
            return SKIP

    sys.path.insert(0, HERE)
    module = importlib.import_module(SUITES[args.suite])
    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = [f"*{p}*" for p in args.pattern]
    suite = loader.loadTestsFromModule(module)
    # A hang shows every thread's stack before ctest's timeout kills us.
    faulthandler.dump_traceback_later(240, exit=True)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    faulthandler.cancel_dump_traceback_later()
    ran = result.testsRun
    skipped = len(result.skipped)
    bad = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    print(f"\n{args.suite}: {ran - skipped - bad} passed, {skipped} skipped, "
          f"{bad} failed (of {ran}) on backend {syncplus.backend}")
    for test, reason in result.skipped:
        print(f"  skipped {test.id()}: {reason}")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
