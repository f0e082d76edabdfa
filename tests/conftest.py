"""Make ``ansible_collections.netplumb.container`` importable from this checkout, and the
test helpers (tests/lib, tools) importable by plain name."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collections_path():
    """A directory holding ansible_collections/netplumb/container for this checkout."""
    parent, name = os.path.split(ROOT)
    grandparent, namespace = os.path.split(parent)
    if name == 'container' and namespace == 'netplumb' and os.path.basename(grandparent) == 'ansible_collections':
        return os.path.dirname(grandparent)       # already installed or placed for ansible-test
    base = os.path.join(ROOT, '.build', 'collections')
    link = os.path.join(base, 'ansible_collections', 'netplumb', 'container')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


COLLECTIONS_PATH = collections_path()
os.environ["NETPLUMB_COLLECTIONS_PATH"] = COLLECTIONS_PATH
for path in (COLLECTIONS_PATH, os.path.join(ROOT, 'tests', 'lib'), os.path.join(ROOT, 'tools')):
    if path not in sys.path:
        sys.path.insert(0, path)
