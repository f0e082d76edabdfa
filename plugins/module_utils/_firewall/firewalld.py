# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Living beside firewalld the way it expects (``firewall_coexistence: integrate``), as Docker 27+
does: our bridges in a zone of ours, ``netplumb``, whose target is ACCEPT, and a policy,
``netplumb-forward``, that accepts what any zone forwards into it. Our own table still decides
what gets through; firewalld only stops dropping it.

Both are firewalld's permanent configuration (XML files in /etc/firewalld), so they survive
``firewall-cmd --reload`` and a restart of firewalld by design; a change is applied with
``firewall-cmd --reload`` when firewalld runs. The files go with the last network."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.netplumb.container.plugins.module_utils import _command
from ansible_collections.netplumb.container.plugins.module_utils._files import ensure_dir, write_atomically

ZONE = 'netplumb'
POLICY = 'netplumb-forward'
CONFIG = '/etc/firewalld'
PATHS = {'zone': os.path.join(CONFIG, 'zones', ZONE + '.xml'), 'policy': os.path.join(CONFIG, 'policies', POLICY + '.xml')}


def zone_text(bridges):
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<!-- managed by netplumb.container: edits are overwritten -->',
             '<zone target="ACCEPT">',
             '  <short>netplumb</short>',
             '  <description>The bridges of netplumb.container networks; their own firewall (nftables table inet '
             'netplumb, or the NETPLUMB chains) decides what gets through.</description>']
    lines += ['  <interface name="%s"/>' % bridge for bridge in sorted(bridges)]
    return '\n'.join(lines + ['</zone>', ''])


def policy_text():
    return '\n'.join(['<?xml version="1.0" encoding="utf-8"?>',
                      '<!-- managed by netplumb.container: edits are overwritten -->',
                      '<policy target="ACCEPT">',
                      '  <short>netplumb-forward</short>',
                      '  <description>What any zone forwards to the bridges of netplumb.container networks.</description>',
                      '  <ingress-zone name="ANY"/>',
                      '  <egress-zone name="%s"/>' % ZONE,
                      '</policy>', ''])


def running(chains):
    """Whether firewalld runs: its table is among the foreign chains (``_coexist.parse_ruleset``)."""
    return any(chain['firewalld'] for chain in chains)


def observe():
    """Our zone and policy files as they are: {path: text}."""
    files = {}
    for path in PATHS.values():
        try:
            with open(path) as handle:
                files[path] = handle.read()
        except IOError:
            pass
    return files


def plan(bridges, integrate, files):
    """(changes {path: text or None}, actions): the zone and policy while ``integrate`` and there are
    bridges, none otherwise. Pure."""
    wanted = {PATHS['zone']: zone_text(bridges), PATHS['policy']: policy_text()} if integrate and bridges else {}
    changes, actions = {}, []
    for path in sorted(set(wanted) | set(files)):
        if wanted.get(path) != files.get(path):
            changes[path] = wanted.get(path)
            actions.append('firewalld: %s %s' % ('remove' if path not in wanted else 'write', path))
    return changes, actions


def apply(changes, running):
    for path, text in sorted(changes.items()):
        if text is None:
            if os.path.exists(path):
                os.unlink(path)
        else:
            ensure_dir(os.path.dirname(path), 0o750)
            write_atomically(path, text, 0o644)
    if running:
        _command.must(['firewall-cmd', '--reload'], 'firewalld')
