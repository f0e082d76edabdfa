# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bounded set of open netlink sockets, one per namespace, the least recently used closed
first.

A socket per namespace kept for the whole run is a descriptor per endpoint: at a thousand
endpoints the usual soft limit (1024) runs out, and under a raised one libnftables, which waits
on its socket with select(), aborts the process on a descriptor of 1024 or more. Work is grouped
by namespace, so a socket closed here is seldom opened again."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import OrderedDict

LIMIT = 32      # per kind of socket (observation, changes): far below any descriptor limit


class Handles(object):
    """``get(key, opener)``: the open socket of ``key``, opened with ``opener()`` when missing."""

    def __init__(self, limit=LIMIT):
        self.limit = limit
        self._open = OrderedDict()

    def get(self, key, opener):
        if key in self._open:
            handle = self._open.pop(key)       # to the end: the most recently used
            self._open[key] = handle
            return handle
        while len(self._open) >= self.limit:
            _key, oldest = self._open.popitem(last=False)
            oldest.close()
        self._open[key] = opener()
        return self._open[key]

    def discard(self, key):
        """Close the socket of ``key`` (its namespace goes)."""
        handle = self._open.pop(key, None)
        if handle is not None:
            handle.close()

    def close(self):
        while self._open:
            _key, handle = self._open.popitem(last=False)
            handle.close()

    def __len__(self):
        return len(self._open)
