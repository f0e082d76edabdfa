"""Where Ansible finds this checkout as the collection netplumb.container."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collections_path():
    """A directory holding ansible_collections/netplumb/container for this checkout: the
    checkout's own grandparents when it already sits there (ansible-test, an install),
    else .build/collections with a symlink to the checkout."""
    parent, name = os.path.split(ROOT)
    grandparent, namespace = os.path.split(parent)
    if name == 'container' and namespace == 'netplumb' and os.path.basename(grandparent) == 'ansible_collections':
        return os.path.dirname(grandparent)
    base = os.path.join(ROOT, '.build', 'collections')
    link = os.path.join(base, 'ansible_collections', 'netplumb', 'container')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base
