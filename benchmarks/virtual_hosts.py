"""What the benchmarks that converge virtual hosts share: the test helpers' and tools' paths,
and from this checkout the lab's VirtualHost, the playbook Runner and the collections path."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lib'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))

from collection_path import collections_path     # noqa: E402
from playbook import Runner                        # noqa: E402

sys.path.insert(0, collections_path())
from ansible_collections.netplumb.lab.plugins.module_utils._vhost import VirtualHost  # noqa: E402

__all__ = ['ROOT', 'Runner', 'VirtualHost', 'collections_path']
