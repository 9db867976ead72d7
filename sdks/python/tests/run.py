# pyright: basic
"""Runs the SDK's tests and ends with one line: `python: N passed, N failed, N skipped`.

    python tests/run.py [-v] [test_module …]

The kvlar under test is whichever `import kvlar` finds (run-tests.sh installs the wheel and puts
it first); src/ is used only when none is installed.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import kvlar
except ImportError:
    sys.path.insert(1, os.path.join(os.path.dirname(HERE), "src"))
    import kvlar

args = [arg for arg in sys.argv[1:] if arg != "-v"]
verbosity = 2 if "-v" in sys.argv[1:] else 1
print(f"testing kvlar {kvlar.__version__} from {os.path.dirname(kvlar.__file__)}", file=sys.stderr)
loader = unittest.defaultTestLoader
if args:
    suite = loader.loadTestsFromNames(args)
else:
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped
print(f"python: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
