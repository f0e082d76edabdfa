# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files the collection keeps on a host (record, desired state, IPAM store, hosts files, boot
files): written whole or not at all, removed with what a cut write left, locked one run at a time."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import errno
import fcntl
import os


def ensure_dir(path, mode=0o700):
    """``path`` and its parents, created when missing: another run creating it at the same moment
    (twenty hosts' first allocations at once) is no error."""
    try:
        os.makedirs(path, mode)
    except OSError:
        if not os.path.isdir(path):
            raise


@contextlib.contextmanager
def exclusive(path):
    """An exclusive flock on ``path``, created when missing. A lock file removed while this one
    waited for it (a teardown tidies its state away) is left for a new one, so two holders never
    lock two different files of one name."""
    while True:
        ensure_dir(os.path.dirname(path))
        handle = open(path, 'a')
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except OSError:
            same = False
        if same:
            break
        handle.close()
    try:
        yield handle
    finally:
        handle.close()


def remove_file(path):
    """Remove ``path`` and what a write of it cut short left beside it (``write_atomically``)."""
    for name in (path, path + '.tmp'):
        try:
            os.unlink(name)
        except OSError as error:
            if error.errno != errno.ENOENT:
                raise


def read_text(path):
    """A file's text, or None when there is none (or it cannot be read)."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_atomically(path, text, mode=0o600):
    """Write ``text`` to ``path`` so a reader sees the old or the new file, never half of one."""
    tmp = path + '.tmp'
    with open(tmp, 'w') as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.rename(tmp, path)
