#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: lab
short_description: Virtual hosts on one Linux machine, to test and demonstrate multi-host networks
version_added: 0.1.0
description:
  - Creates, extends, shrinks and destroys a lab of virtual hosts on the machine the module runs on.
  - Each virtual host has its own network namespace, its own mount namespace (a private C(/run), hence
    C(/run/netns), and a private C(/var/lib/netplumb)) and its own hostname, and runs an C(sshd) on its own
    loopback. Hosts are joined by an underlay switch, a bridge in a namespace of its own, on O(underlay).
  - Ansible and Testinfra reach a host over SSH with a C(ProxyCommand) that enters its network namespace
    (see the role C(netplumb.lab.lab), which writes the inventory and the SSH client configuration),
    so playbooks and Molecule scenarios run as they would against real machines.
  - Nothing is added to the machine's own network namespace. Destroying the lab stops every process it
    started (also after a half-failed create) and removes its directory.
author:
  - netplumb developers (@netplumb)
options:
  name:
    description: Name of the lab; several labs can run side by side.
    type: str
    default: netplumb
  hosts:
    description: Names of the virtual hosts (also their hostnames). Hosts not listed are destroyed.
    type: list
    elements: str
  count:
    description: Number of virtual hosts, named V(host1) to V(hostN). Used when O(hosts) is not given.
    type: int
  underlay:
    description: Underlay subnet. Hosts get addresses from the eleventh up; the first is the outside world's.
    type: str
    default: 198.51.100.0/24
  outside:
    description:
      - Add an "outside world" stand-in on the underlay (its first address), which answers at C(203.0.113.1)
        and is every host's default gateway; it plays the Internet for egress and published-port tests.
    type: bool
    default: false
  kind:
    description:
      - V(host) - namespace hosts (fast; they share the machine's files, so nothing may be installed on them).
      - V(machine) - real Debian systems, C(systemd-nspawn) containers booted from the lab image (C(make lab-image))
        with their own systemd, sshd, packages and files on a per-host layer that survives their reboots; C(reboot)
        inside one really reboots it. A lab is of one kind; destroy it to change the kind.
    type: str
    choices: [host, machine]
    default: host
  release:
    description:
      - The Debian release of lab machines - V(bookworm) (Debian 12, C(make lab-image)) or V(trixie) (Debian 13,
        C(make lab-image-trixie)). Machines made before keep theirs; destroy them to change it.
    type: str
    choices: [bookworm, trixie]
    default: bookworm
  releases:
    description:
      - The release of some machines, by host name, where it is not O(release) - one lab can hold Debian 12 and
        Debian 13 machines side by side (for example a Debian 13 controller among Debian 12 hosts).
    type: dict
    default: {}
  dir:
    description: Directory for the lab's state, keys and SSH configuration. Defaults to C(/var/lib/netplumb-lab/NAME).
    type: path
  state:
    description: V(present) creates or updates the lab; V(absent) destroys it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Check mode reports which hosts would be created or destroyed and changes nothing.
  diff_mode:
    support: full
    description: The diff shows the lab's hosts and outside world before and after.
  platform:
    support: full
    platforms: posix
    description: Linux, run as root on the machine that holds the lab (usually C(localhost)).
requirements:
  - Linux, root
  - pyroute2, util-linux (C(unshare), C(nsenter)), iproute2, openssh-server, openssh-client, netcat-openbsd
notes:
  - Only documentation address ranges are used by default (198.51.100.0/24 and 203.0.113.0/24).
seealso:
  - module: netplumb.container.netns
'''

EXAMPLES = r'''
- name: A three-host lab with an outside world
  netplumb.lab.lab:
    name: demo
    count: 3
    outside: true
  register: lab

- name: Grow it by naming the hosts
  netplumb.lab.lab:
    name: demo
    hosts: [host1, host2, host3, host4]

- name: Destroy it
  netplumb.lab.lab:
    name: demo
    state: absent
'''

RETURN = r'''
lab:
  description: The lab after the run (in check mode, as it is now); absent after O(state=absent).
  returned: success and state=present
  type: dict
  contains:
    name:
      description: Name of the lab.
      type: str
      sample: demo
    dir:
      description: Directory with the state file, keys and SSH configuration.
      type: str
      sample: /var/lib/netplumb-lab/demo
    underlay:
      description: Underlay subnet.
      type: str
      sample: 198.51.100.0/24
    client_key:
      description: Private key that logs in as root on every host.
      type: str
      sample: /var/lib/netplumb-lab/demo/id_ed25519
    hosts:
      description: The virtual hosts, in the order asked for.
      type: list
      elements: dict
      sample: [{name: host1, address: 198.51.100.11/24, pid: 4242, kind: host,
                proxy_command: "nsenter --target 4242 --net nc 127.0.0.1 22"}]
    outside:
      description: The outside world, or null.
      type: dict
      sample: {address: 198.51.100.1/24, internet: 203.0.113.1/24, pid: 4240}
actions:
  description: What was (or in check mode would be) done, in order.
  returned: always
  type: list
  elements: str
  sample: ["create underlay switch", "create host host1 (198.51.100.11/24)"]
'''

import ipaddress
import os
import re
import subprocess

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput, NetplumbError
from ansible_collections.netplumb.lab.plugins.module_utils._lab import Lab, plan_lab
from ansible_collections.netplumb.lab.plugins.module_utils._vhost import VirtualHost
from ansible_collections.netplumb.lab.plugins.module_utils._machine import IMAGES, stop as stop_machine

_HOSTNAME = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
RESERVED = ('switch', 'outside')
RELEASES = tuple(IMAGES)           # bookworm, trixie


def desired(params):
    if params['state'] == 'absent':
        hosts = []
    elif params['hosts'] is not None:
        hosts = list(params['hosts'])
    elif params['count'] is not None:
        if not 1 <= params['count'] <= 200:
            raise InvalidInput('count: %d is out of range (1..200)' % params['count'])
        hosts = ['host%d' % (i + 1) for i in range(params['count'])]
    else:
        raise InvalidInput('hosts or count is required with state=present')
    for host in hosts:
        if not _HOSTNAME.match(host) or host in RESERVED:
            raise InvalidInput('hosts: %r is not a usable host name (lower-case letters, digits and "-"; not %s)'
                               % (host, ' or '.join(RESERVED)))
    if len(set(hosts)) != len(hosts):
        raise InvalidInput('hosts: %s are listed twice' % sorted(set(h for h in hosts if hosts.count(h) > 1)))
    try:
        underlay = ipaddress.ip_network(params['underlay'], strict=True)
    except ValueError as error:
        raise InvalidInput('underlay: %r is not a network in CIDR form (%s)' % (params['underlay'], error))
    if underlay.version != 4 or underlay.prefixlen > 28:
        raise InvalidInput('underlay: %s must be an IPv4 network of /28 or larger' % underlay)
    if not re.match(r'^[A-Za-z0-9_.-]+$', params['name']):
        raise InvalidInput('name: %r may hold letters, digits, "_", "." and "-" only' % params['name'])
    releases = params.get('releases') or {}
    for host, release in sorted(releases.items()):
        if host not in hosts:
            raise InvalidInput('releases: %r is not one of the lab\'s hosts (%s)' % (host, ', '.join(hosts)))
        if release not in RELEASES:
            raise InvalidInput('releases: %s: %r is not a release (%s)' % (host, release, ', '.join(RELEASES)))
    releases = dict((host, releases.get(host, params['release'])) for host in hosts)
    other = sorted(set(releases.values()) - set(['bookworm']))
    if params['kind'] != 'machine' and other:
        raise InvalidInput('release: %s - only lab machines have a release of their own (namespace hosts run the '
                           "machine's system)" % ', '.join(other))
    return {'name': params['name'], 'hosts': hosts, 'underlay': str(underlay), 'outside': params['outside'],
            'kind': params['kind'], 'releases': releases}


def describe(lab, state, want):
    hosts = []
    for name in want['hosts']:
        record = state['hosts'].get(name) if state else None
        if record and record.get('kind') == 'machine':      # reached through the switch: its PID outlives reboots
            hosts.append({'name': name, 'address': record['address'], 'pid': record['pid'], 'kind': 'machine',
                          'proxy_command': 'nsenter --target %d --net nc %s 22' % (
                              state['switch']['pid'], record['address'].split('/')[0])})
        elif record:
            hosts.append({'name': name, 'address': record['address'], 'pid': record['pid'], 'kind': 'host',
                          'proxy_command': 'nsenter --target %d --net nc 127.0.0.1 22' % record['pid']})
    return {'name': lab.name, 'dir': lab.dir, 'underlay': want['underlay'], 'client_key': lab.client_key,
            'hosts': hosts, 'outside': state.get('outside') if state else None}


def present(module, lab, want):
    state = lab.load()
    kinds = set(r.get('kind', 'host') for r in ((state or {}).get('hosts') or {}).values())
    if kinds - set([want['kind']]):
        raise InvalidInput('kind: lab %s holds %s hosts; destroy it before making it of kind %s'
                           % (lab.name, kinds.pop(), want['kind']))
    plan = plan_lab(want, state)
    actions = []
    if plan['switch']:
        actions.append('create underlay switch')
    actions += ['destroy host %s' % h for h in plan['remove']]
    if plan['outside_remove']:
        actions.append('destroy outside world')
    if plan['outside']:
        actions.append('create outside world (%s)' % lab.name)
    actions += ['create host %s (%s)' % (h, plan['addresses'][h]) for h in plan['create']]
    # a host whose holder is alive but whose sshd died is repaired in place
    plan['sshd'] = [h for h in want['hosts'] if h in (state or {}).get('hosts', {}) and h not in plan['remove']
                    and not lab.sshd_running(h, state['hosts'][h])]
    actions += ['start sshd on host %s' % h for h in plan['sshd']]
    before = {'hosts': sorted((state or {}).get('hosts', {})), 'outside': bool((state or {}).get('outside'))}
    after = {'hosts': sorted(want['hosts']), 'outside': bool(want['outside'])}
    if actions and not module.check_mode:
        existed = state is not None
        try:
            state = apply(lab, want, state, plan)
        except Exception:
            if not existed:
                lab.destroy()        # a lab that did not exist before this call leaves nothing behind
            raise
    return actions, before, after, state


def apply(lab, want, state, plan):
    lab.ensure_files()
    if plan['switch']:
        state = {'name': lab.name, 'underlay': want['underlay'], 'hosts': {}, 'outside': None,
                 'switch': lab.start_switch()}
        lab.save(state)
    for name in plan['remove']:
        record = state['hosts'].pop(name)
        if record.get('kind') == 'machine':
            stop_machine(record['pid'], lab.machine_dir(name))
        else:
            VirtualHost(name, record['pid'], '%s/%s' % (lab.name, name)).destroy()
        lab.save(state)
    if plan['outside_remove']:
        VirtualHost('outside', state['outside']['pid'], '%s/outside' % lab.name).destroy()
        state['outside'] = None
        lab.save(state)
        for name, record in state['hosts'].items():
            lab.route_default(record, None, name)
    if plan['outside']:
        state['outside'] = lab.start_outside(want['underlay'])
        lab.save(state)
        lab.wire(state, 'outside', state['outside'], extra_address=state['outside']['internet'])
        for name, record in state['hosts'].items():
            lab.route_default(record, state['outside']['address'].split('/')[0], name)
    gateway = state['outside']['address'].split('/')[0] if state['outside'] else None
    for name in plan['sshd']:
        lab.start_sshd(name, state['hosts'][name])
        lab.save(state)
    for name in plan['create']:
        if want['kind'] == 'machine':
            state['hosts'][name] = lab.start_machine(state, name, plan['addresses'][name], gateway, want['releases'][name])
            lab.save(state)
            continue
        state['hosts'][name] = lab.start_host(name, plan['addresses'][name], (state.get('stale') or {}).get(name))
        (state.get('stale') or {}).pop(name, None)
        lab.save(state)
        lab.wire(state, name, state['hosts'][name], gateway=gateway)
    return state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', default='netplumb'),
            hosts=dict(type='list', elements='str'),
            count=dict(type='int'),
            underlay=dict(type='str', default='198.51.100.0/24'),
            outside=dict(type='bool', default=False),
            kind=dict(type='str', default='host', choices=['host', 'machine']),
            release=dict(type='str', default='bookworm', choices=list(RELEASES)),
            releases=dict(type='dict', default={}),
            dir=dict(type='path'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        mutually_exclusive=[('hosts', 'count')],
        supports_check_mode=True,
    )
    result = {'changed': False, 'actions': []}
    try:
        want = desired(module.params)
        lab = Lab(want['name'], module.params['dir'] or os.path.join('/var/lib/netplumb-lab', want['name']))
        if module.params['state'] == 'absent':
            exists = os.path.isdir(lab.dir)
            result['actions'] = ['destroy lab %s' % lab.name] if exists else []
            if module._diff:
                result['diff'] = {'before': {'state': 'present' if exists else 'absent'}, 'after': {'state': 'absent'}}
            if exists and not module.check_mode:
                lab.destroy()
        else:
            actions, before, after, state = present(module, lab, want)
            result['actions'] = actions
            if module._diff:
                result['diff'] = {'before': before, 'after': after}
            result['lab'] = describe(lab, state, want)
        result['changed'] = bool(result['actions'])
    except NetplumbError as error:
        result['msg'] = str(error)
        module.fail_json(**result)
    except (OSError, subprocess.CalledProcessError) as error:
        result['msg'] = 'lab %s: %s' % (module.params['name'], error)
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
