# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a plan holds: kernel operations and the other changes in the order they are applied,
the actions in words, and the before/after views and return values, merged phase by phase."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class TopologyPlan(object):
    """Everything one run changes, in the order it is applied; also one phase's part of it."""

    def __init__(self):
        self.actions = []        # in words, for the user
        self.ops = []            # kernel operations (Kernel.apply)
        self.pools = {}          # pool name -> new store content, or None to remove it
        self.firewall = None     # the firewall backend's transaction, None for no change
        self.retired = None      # (backend name, transaction) removing the rules of the backend used before
        self.coexistence = []    # nft commands on foreign chains (firewall_coexistence: integrate)
        self.firewalld = {}      # firewalld's files of ours: path -> text, or None to remove
        self.warnings = []
        self.sysctls = {}        # key -> value to set
        self.files = {}          # path -> content, or None to remove (hosts, resolv.conf, the desired state)
        self.boot_files = {}     # restore at boot: path -> (mode, text), or None to remove
        self.name_server = None  # {config: text or None, action: start|reload|restart|stop|None}
        self.redirects = {}      # endpoint namespace -> its DNS stub redirect ({server, ifname, stubs}), None: remove
        self.dns_records = {}    # endpoint -> the redirect its namespace holds once applied (for the record)
        self.record = None
        self.before = {'networks': {}, 'endpoints': {}}
        self.after = {'networks': {}, 'endpoints': {}}
        self.returns = {'networks': {}, 'endpoints': {}}

    @property
    def changed(self):
        return bool(self.actions)

    def kernel(self, plan):
        for op in plan.ops:
            self.op(op)

    def op(self, op):
        self.ops.append(op)
        self.actions.append(op.describe())

    def merge(self, part):
        self.actions += part.actions
        self.ops += part.ops
        self.coexistence += part.coexistence
        self.firewalld.update(part.firewalld)
        self.warnings += part.warnings
        if part.firewall:
            self.firewall = part.firewall
        if part.retired:
            self.retired = part.retired
        if part.name_server:
            self.name_server = part.name_server
        for mine, theirs in ((self.pools, part.pools), (self.sysctls, part.sysctls), (self.files, part.files),
                             (self.boot_files, part.boot_files), (self.redirects, part.redirects),
                             (self.dns_records, part.dns_records)):
            mine.update(theirs)
        for mine, theirs in ((self.before, part.before), (self.after, part.after), (self.returns, part.returns)):
            for kind, views in theirs.items():
                for name, view in views.items():
                    if isinstance(view, dict):
                        mine.setdefault(kind, {}).setdefault(name, {}).update(view)
                    else:
                        mine.setdefault(kind, {})[name] = view
        return self
