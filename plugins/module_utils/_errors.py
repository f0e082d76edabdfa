# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the engine.

Every error carries a complete, user-facing message. The runner turns them into
``fail_json`` in one place, so modules never format errors themselves.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class NetplumbError(Exception):
    """Base class: ``str(error)`` is the message shown to the user."""


class InvalidInput(NetplumbError):
    """A parameter is malformed; raised before anything is observed or changed."""


class NotFound(NetplumbError):
    """Something the request refers to (namespace, interface, process) does not exist."""


class Conflict(NetplumbError):
    """The request cannot be reconciled with what exists without destroying foreign state."""


class KernelError(NetplumbError):
    """The kernel refused an operation while applying a plan."""

    def __init__(self, obj, operation, reason):
        self.obj = obj
        self.operation = operation
        self.reason = reason
        super(KernelError, self).__init__('%s: cannot %s: %s' % (obj, operation, reason))
