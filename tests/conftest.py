"""Make ``ansible_collections.netplumb.container`` importable from this checkout, and the
test helpers (tests/lib, tools) importable by plain name."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (os.path.join(ROOT, 'tests', 'lib'), os.path.join(ROOT, 'tools')):
    if path not in sys.path:
        sys.path.insert(0, path)

from collection_path import collections_path  # noqa: E402  (needs the path above)

COLLECTIONS_PATH = collections_path()
os.environ['NETPLUMB_COLLECTIONS_PATH'] = COLLECTIONS_PATH      # for tests/integration/conftest.py
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)


def pytest_configure(config):
    config.addinivalue_line('markers', 'any_interpreter: what it proves does not depend on the modules\' Python '
                            '(no netlink, or a variant of a case the other run covers): run with the newest '
                            'pyroute2 only (make integration-debian skips it)')
