"""Where Ansible finds this checkout as the collections netplumb.container and netplumb.lab."""

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
    # netplumb.lab, the test and demo scaffolding, is a collection of its own in lab/
    for name, target in (('container', ROOT), ('lab', os.path.join(ROOT, 'lab'))):
        link = os.path.join(base, 'ansible_collections', 'netplumb', name)
        if not os.path.islink(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(target, link)
    return base
