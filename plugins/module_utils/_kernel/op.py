# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One kernel operation, as the planners above produce it and ``Kernel.apply`` runs it: kept in
the kernel layer, which imports nothing above it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def where(namespace):
    return 'namespace %s' % namespace if namespace else 'the host namespace'


def label(namespace, name):
    return '%s (in %s)' % (name, namespace) if namespace else name


class Op(object):
    """One kernel operation. ``action`` selects the Kernel method; ``text`` says it in words."""

    __slots__ = ('action', 'namespace', 'name', 'args', 'text')

    def __init__(self, action, namespace, name, text, **args):
        self.action = action
        self.namespace = namespace
        self.name = name
        self.args = args
        self.text = text

    @property
    def obj(self):
        if self.action.startswith('netns_'):
            return 'netns %s' % self.name
        return label(self.namespace, self.name)

    def describe(self):
        return '%s: %s' % (self.obj, self.text)

    def __repr__(self):
        return 'Op(%s %s %r)' % (self.action, self.obj, self.args)
