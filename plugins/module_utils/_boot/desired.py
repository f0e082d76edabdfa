# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's desired state, kept beside the record after every apply, so the host rebuilds its
networks by itself (at boot, after a firewall restart) with no controller.

It is the topology module's own arguments, as validated, with everything that was decided on
the way filled in: carved subnets, the addresses IPAM leased, the overlays' peers as the
control plane computed them. Run through the same engine (``restore``) on a host that lost its
kernel state, they rebuild exactly what was there; on a host that has it, they change nothing.
Endpoints adopted from a process carry the process's start time: after a reboot the PID means
another process, or none, and such an endpoint is reported, never invented."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput

DESIRED = 'desired.json'
VERSION = 1


def desired_path(state_dir):
    return os.path.join(state_dir, DESIRED)


def process_start(pid):
    """The start time of process ``pid`` in clock ticks since boot (/proc/PID/stat field 22), or
    None when there is no such process: with the PID it names one process for good."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[19])
    except (IOError, OSError, IndexError, ValueError):
        return None


def desired_state(params, returns):
    """{version, arguments, processes}: ``params`` (validated topology arguments) with the present
    networks' resolved subnets and the present endpoints' addresses from ``returns`` (the plan's
    return values); absent and unlisted entries are left out (a restore does not purge)."""
    networks = []
    for net in params['networks']:
        got = returns['networks'].get(net['name'])
        if net['state'] != 'present' or got is None:
            continue
        net = dict(net, subnet=got['subnet'])
        if got.get('ipv6_subnet'):
            net.update(ipv6_subnet=got['ipv6_subnet'], enable_ipv6=True)
        networks.append(net)
    endpoints, processes = [], {}
    for ep in params['endpoints']:
        got = returns['endpoints'].get(ep['name'])
        if ep['state'] != 'present' or got is None:
            continue
        by_network = dict((i['network'], i) for i in got['interfaces'].values())
        attachments = []
        for att in ep['networks'] or []:
            att = dict(att) if isinstance(att, dict) else {'name': att}
            interface = by_network.get(att['name'])
            if interface is not None:
                att['address'] = interface['address'].split('/')[0]
                if interface.get('ipv6_address'):
                    att['ipv6_address'] = interface['ipv6_address'].split('/')[0]
            attachments.append(att)
        endpoints.append(dict(ep, networks=attachments) if ep['networks'] is not None else dict(ep))
        if ep['pid'] is not None:
            processes[ep['name']] = process_start(ep['pid'])
    arguments = dict(params, networks=networks, endpoints=endpoints, purge=False)
    return {'version': VERSION, 'arguments': arguments, 'processes': processes}


def desired_text(state):
    return json.dumps(state, indent=1, sort_keys=True) + '\n'


def digest(text):
    return hashlib.sha1(text.encode('utf-8')).hexdigest()[:12] if text is not None else None


def read_desired(state_dir):
    """The kept state, or InvalidInput naming the file when it is missing or corrupt."""
    path = desired_path(state_dir)
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (IOError, OSError) as error:
        raise InvalidInput('%s: %s - nothing to restore (the topology module writes it when it applies a change)'
                           % (path, error.strerror))
    except ValueError as error:
        raise InvalidInput('%s is corrupt (%s); nothing was changed - re-run the playbook to rewrite it'
                           % (path, error))
    if not isinstance(state, dict) or state.get('version') != VERSION or not isinstance(state.get('arguments'), dict):
        raise InvalidInput('%s is not a desired state of version %d; nothing was changed - re-run the playbook'
                           % (path, VERSION))
    return state


def living(state):
    """(arguments without the endpoints whose adopted process is gone - and those that share
    their namespace - , [their names])."""
    arguments = state['arguments']
    gone = set(name for name, start in (state.get('processes') or {}).items()
               if start is None or process_start(_pid(arguments, name)) != start)
    gone |= set(ep['name'] for ep in arguments['endpoints'] if ep['mode'].split(':', 1)[-1] in gone)
    endpoints = [ep for ep in arguments['endpoints'] if ep['name'] not in gone]
    return dict(arguments, endpoints=endpoints), sorted(gone)


def _pid(arguments, name):
    return [ep['pid'] for ep in arguments['endpoints'] if ep['name'] == name][0]
