#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: bgp_evpn
short_description: FRR as the BGP EVPN control plane of overlays with control_plane evpn
version_added: 0.9.0
description:
  - Writes the host's FRR configuration for overlays whose C(control_plane) is C(evpn) - iBGP in one AS, the
    C(l2vpn evpn) address family, C(advertise-all-vni) on a VTEP, route reflection with a shared cluster-id
    and a listen range on a reflector. FRR's zebra then advertises the host's endpoints (type-2 routes) and its
    VTEP (type-3) and installs the other hosts' as C(extern_learn) entries; M(netplumb.container.topology)
    writes none.
  - zebra runs with C(-n) (each network namespace is a VRF to it), so overlays keep their layout (bridge and
    VTEP in a namespace of their own) and zebra still sees them. C(bgpd) is turned on in C(daemons).
  - A configuration change is applied with FRR's own C(frr-reload.py) (sessions stay up); a change of
    C(daemons) or an FRR that is not running is a restart. FRR is enabled, and ordered after
    C(netplumb-restore.service) by a drop-in, so after a reboot it reads the overlays as soon as they are back.
  - An C(frr.conf) holding a configuration netplumb did not write (anything but the package's default) is
    refused, naming its first line, before any change; netplumb does not merge into another configuration.
  - The C(netplumb.container.network) role calls this module for you; see C(docs/evpn.md).
author:
  - netplumb developers (@netplumb)
options:
  state:
    description: C(absent) puts back the package's configuration (C(daemons) as shipped, an empty C(frr.conf)) and
      stops FRR - only when the configuration there is netplumb's.
    type: str
    choices: [present, absent]
    default: present
  asn:
    description: The AS number every host of the fabric shares (iBGP).
    type: int
    default: 65000
  router_id:
    description: This host's underlay address, the BGP router id and the source of its sessions.
    type: str
  vtep:
    description: This host has overlays with control_plane evpn (C(advertise-all-vni)).
    type: bool
    default: true
  reflectors:
    description: The route reflectors' addresses this host peers with; its own is left out.
    type: list
    elements: str
    default: []
  static_vnis:
    description:
      - The VNIs of this host's overlays with control_plane static. C(advertise-all-vni) would advertise them too, and
        the other hosts' zebra would replace their exact entries with learned ones; an outbound route-map denies
        them by route target (C(ASN:VNI)), so they never leave this host.
    type: list
    elements: int
    default: []
  reflector:
    description: This host is a route reflector.
    type: bool
    default: false
  cluster_id:
    description: The cluster-id every route reflector shares (required when I(reflector)).
    type: str
  listen_range:
    description: Where a reflector accepts sessions from (required when I(reflector)), so a new host needs no
      change on the reflectors.
    type: str
  state_dir:
    description: Where a copy of the configuration FRR last loaded is kept (a run cut short between writing it
      and the reload reloads next time).
    type: path
    default: /var/lib/netplumb
attributes:
  check_mode:
    support: full
    description: Reads the files and asks systemd whether FRR runs; writes, starts and reloads nothing.
  diff_mode:
    support: full
    description: C(frr.conf), the lines of C(daemons) netplumb sets and the drop-in, before and after, as text.
notes:
  - Needs FRR with C(frr-pythontools) (C(frr-reload.py)) and systemd; the C(netplumb.container.prereqs) role installs
    them when an overlay has control_plane evpn.
'''

EXAMPLES = r'''
- name: A VTEP peering with two route reflectors
  netplumb.container.bgp_evpn:
    router_id: 198.51.100.11
    reflectors: [198.51.100.21, 198.51.100.22]

- name: A route reflector
  netplumb.container.bgp_evpn:
    router_id: 198.51.100.21
    vtep: false
    reflector: true
    cluster_id: 198.51.100.21
    listen_range: 198.51.100.0/24
'''

RETURN = r'''
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["/etc/frr/frr.conf: write", "frr: reload with frr-reload.py"]
config:
  description: The frr.conf netplumb writes (empty when I(state=absent)).
  returned: always
  type: str
'''

import os
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils._errors import NotFound
from ansible_collections.netplumb.container.plugins.module_utils._evpn import frr, host
from ansible_collections.netplumb.container.plugins.module_utils._topology.role_interface import DEFAULT_ASN
from ansible_collections.netplumb.container.plugins.module_utils._files import read_text, remove_file, write_atomically
from ansible_collections.netplumb.container.plugins.module_utils._runner import Change, run_module


def _keep(path, text):
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path), 0o700)
    write_atomically(path, text)


def reconcile(run, params):
    params = frr.check(params)
    present = params['state'] == 'present'
    config_now, daemons_now = read_text(frr.CONFIG), read_text(frr.DAEMONS)
    if daemons_now is None:
        if not present:
            return Change(returns={'config': ''})
        raise NotFound('%s is missing: FRR is not installed (packages frr and frr-pythontools; the '
                       'netplumb.container.prereqs role installs them)' % frr.DAEMONS)
    frr.refuse_foreign(config_now, frr.CONFIG)
    if present and not os.path.exists(frr.RELOAD):
        raise NotFound('%s is missing: FRR\'s reload needs the frr-pythontools package' % frr.RELOAD)
    if not os.path.isdir('/run/systemd/system'):
        raise NotFound('FRR is run by systemd, which is not this host\'s init: netplumb cannot supervise it here')
    if not present and frr.owner(config_now) != 'netplumb':
        return Change(returns={'config': ''})
    loaded_path = os.path.join(params['state_dir'], 'frr', 'frr.conf.loaded')
    config = frr.render(params) if present else ''
    daemons = frr.daemons(daemons_now, present)
    drop_in = frr.DROP_IN_TEXT if present else None
    active = host.run(['systemctl', 'is-active', '--quiet', 'frr.service'])[0] == 0
    enabled = host.run(['systemctl', 'is-enabled', '--quiet', 'frr.service'])[0] == 0
    actions, steps = [], []

    def write(path, text, mode=0o644):
        def step():
            if text is None:
                remove_file(path)
            else:
                if not os.path.isdir(os.path.dirname(path)):
                    os.makedirs(os.path.dirname(path), 0o755)
                write_atomically(path, text, mode)
        actions.append('%s: %s' % (path, 'remove' if text is None else 'write'))
        steps.append((path, step))

    if daemons != daemons_now:
        write(frr.DAEMONS, daemons, 0o640)
    if read_text(frr.DROP_IN) != drop_in:
        write(frr.DROP_IN, drop_in)
        actions.append('systemd: reload units')
        steps.append(('systemd', lambda: host.must(['systemctl', 'daemon-reload'])))
    if (config_now or '') != config:
        write(frr.CONFIG, config, 0o640)
    if present:
        if not enabled:
            actions.append('frr: enable')
            steps.append(('frr', lambda: host.must(['systemctl', 'enable', '--quiet', 'frr.service'])))
        if not active or daemons != daemons_now:
            # bgpd turned on, or zebra's -n: only a start reads daemons
            actions.append('frr: %s' % ('restart' if active else 'start'))
            steps.append(('frr', lambda: host.must(['systemctl', 'restart', 'frr.service'])))
        elif config != read_text(loaded_path):
            actions.append('frr: reload with frr-reload.py (sessions stay up)')
            steps.append(('frr', lambda: host.must([sys.executable, frr.RELOAD, '--reload', frr.CONFIG])))
        if config != read_text(loaded_path):
            steps.append(('state', lambda: _keep(loaded_path, config)))
    else:
        actions.append('frr: stop and disable')
        steps.append(('frr', lambda: host.must(['systemctl', 'disable', '--now', '--quiet', 'frr.service'])))
        steps.append(('state', lambda: remove_file(loaded_path)))
    return Change(actions, _shown(config_now, daemons_now, read_text(frr.DROP_IN)), _shown(config, daemons, drop_in),
                  {'config': config}, steps=steps)


def _shown(config, daemons, drop_in):
    """What --diff shows, as text (a unified diff): frr.conf, the lines of daemons netplumb sets,
    the drop-in."""
    lines = [line for line in daemons.splitlines() if line.startswith(('bgpd=', 'zebra_options='))]
    return '# %s\n%s# %s (the lines netplumb sets)\n%s\n# %s\n%s' % (
        frr.CONFIG, config or '', frr.DAEMONS, '\n'.join(lines), frr.DROP_IN, drop_in or '(none)\n')


def main():
    module = AnsibleModule(argument_spec=dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        asn=dict(type='int', default=DEFAULT_ASN),
        router_id=dict(type='str'),
        vtep=dict(type='bool', default=True),
        reflectors=dict(type='list', elements='str', default=[]),
        static_vnis=dict(type='list', elements='int', default=[]),
        reflector=dict(type='bool', default=False),
        cluster_id=dict(type='str'),
        listen_range=dict(type='str'),
        state_dir=dict(type='path', default='/var/lib/netplumb'),
    ), required_if=[('state', 'present', ['router_id'])], supports_check_mode=True)
    run_module(module, reconcile, netlink=False)


if __name__ == '__main__':
    main()
