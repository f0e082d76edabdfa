"""The engine's sockets per namespace are bounded: the least recently used is closed first, a
namespace that goes has its socket closed, and closing all leaves none open."""

from ansible_collections.netplumb.container.plugins.module_utils._kernel.handles import Handles


class Socket(object):
    def __init__(self, name, opened):
        self.name, self.opened = name, opened
        opened.add(name)

    def close(self):
        self.opened.discard(self.name)


def test_at_most_the_limit_stay_open_the_least_recently_used_closed_first():
    opened, handles = set(), Handles(limit=3)
    for name in ('a', 'b', 'c'):
        handles.get(name, lambda name=name: Socket(name, opened))
    first = handles.get('a', lambda: Socket('a again', opened))         # used again: now the newest
    assert first.name == 'a'
    handles.get('d', lambda: Socket('d', opened))
    assert opened == {'a', 'c', 'd'} and len(handles) == 3               # b was the least recently used
    for i in range(1000):
        handles.get('ns%d' % i, lambda i=i: Socket('ns%d' % i, opened))
    assert len(opened) == 3
    handles.discard('ns999')
    assert 'ns999' not in opened
    handles.close()
    assert opened == set() and len(handles) == 0
