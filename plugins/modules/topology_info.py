#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: topology_info
short_description: Read what the topology module keeps on a host - networks, leases, underlay addresses
version_added: 0.1.0
description:
  - Reads, without changing anything, the record of networks and endpoints that M(netplumb.container.topology)
    made, every IPAM lease kept on the host, and the host's IPv4 addresses with their interface and MTU.
  - The C(netplumb.container.network) role gathers this from every host of the play, so overlay addresses and VNIs stay
    unique across the inventory and stable across runs with no state on the controller (an AWX controller is
    thrown away after each job).
author:
  - netplumb developers (@netplumb)
options:
  state_dir:
    description: Where the topology module keeps its record and the IPAM leases (C(ipam/)).
    type: path
    default: /var/lib/netplumb
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs in check mode as it does otherwise.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description: Linux hosts only; talks netlink to the kernel through pyroute2.
requirements:
  - Linux
  - pyroute2 >= 0.7.2 on the managed host (Debian/Ubuntu package C(python3-pyroute2))
seealso:
  - module: netplumb.container.topology
'''

EXAMPLES = r'''
- name: What the host holds
  netplumb.container.topology_info:
  register: held

- name: The addresses leased on overlay net1
  ansible.builtin.debug:
    var: held.leases.net1
'''

RETURN = r'''
networks:
  description: The networks the topology module made, with driver, subnet, VNI and namespace (overlays).
  returned: always
  type: dict
  sample: {"net1": {"driver": "overlay", "subnet": "10.0.0.0/24", "vni": 4096, "namespace": "ov-net1", "bridge": "br0"}}
endpoints:
  description: Names of the endpoints the topology module made.
  returned: always
  type: list
  elements: str
leases:
  description: Per IPAM pool, owner -> address.
  returned: always
  type: dict
  sample: {"net1": {"net1c1": "10.0.0.2"}}
default_device:
  description: The interface of the host's IPv4 default route, if it has one.
  returned: always
  type: str
  sample: eth0
underlay:
  description:
    - The host's IPv4 addresses (loopback aside) with their interface and its MTU; C(netplumb) is true on the
      bridges netplumb made (gateway addresses, never an underlay).
  returned: always
  type: list
  elements: dict
  sample: [{"address": "198.51.100.11", "prefix": 24, "device": "eth0", "mtu": 1500, "netplumb": false}]
inspect:
  description:
    - Per network of the host, what C(docker network inspect) shows - driver, scope (C(local) for a bridge network,
      C(global) for one across hosts), the namespace of an overlay, each subnet with its gateway, range and IPAM
      usage (addresses leased, and still free to hand out), the options declared, and the endpoints on it with
      their interface, addresses, MAC and published ports.
    - Read from what the topology module keeps (its record, the IPAM store and the desired state), not from the
      kernel.
  returned: always
  type: dict
  sample: {new_network: {driver: bridge, scope: local, namespace: null, options: {},
           subnets: [{subnet: 172.18.0.0/16, gateway: 172.18.0.1, ip_range: null, leased: 2, free: 65531}],
           endpoints: {nginx01: {interface: eth0, namespace: nginx01, ipv4_address: 172.18.0.2, ipv6_address: null,
                                 mac_address: "02:42:ac:12:00:02", published: ["8080:80"]}}}}
frr:
  description: Whose FRR configuration C(/etc/frr/frr.conf) holds - C(netplumb) (M(netplumb.container.bgp_evpn)
    wrote it), C(package) (FRR's default), null (no file), else its first line (someone else's).
  returned: always
  type: str
  sample: netplumb
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.container.plugins.module_utils._evpn import frr
from ansible_collections.netplumb.container.plugins.module_utils._files import read_text
from ansible_collections.netplumb.container.plugins.module_utils._objects.ipam import Store
from ansible_collections.netplumb.container.plugins.module_utils._runner import Change, run_module
from ansible_collections.netplumb.container.plugins.module_utils._boot.desired import desired_path, read_desired
from ansible_collections.netplumb.container.plugins.module_utils._topology.inspect import inspect
from ansible_collections.netplumb.container.plugins.module_utils._topology.record import read_record


def reconcile(run, params):
    """Read-only: what the topology module recorded, the IPAM leases, the underlay addresses."""
    record = read_record(params['state_dir'])
    pools = Store(os.path.join(params['state_dir'], 'ipam')).all()
    leases = dict((name, data['leases']) for name, data in pools.items())
    underlay = []
    for name, link in sorted(run.kernel.links(None).items()):
        for cidr in link['addresses']:
            ip, prefix = cidr.split('/')
            if ':' not in ip and name != 'lo':
                underlay.append({'address': ip, 'prefix': int(prefix), 'device': name, 'mtu': link['mtu'],
                                 'netplumb': (link.get('alias') or '').startswith('netplumb ')})
    default = [r['dev'] for r in run.kernel.routes(None) if r['dst'] == '0.0.0.0/0']
    # what the last change applied (none before the first one; a corrupt file fails, naming it)
    desired = read_desired(params['state_dir'])['arguments'] if os.path.exists(desired_path(params['state_dir'])) else {}
    return Change(returns={'networks': record['networks'], 'endpoints': sorted(record['endpoints']), 'leases': leases,
                           'underlay': underlay, 'default_device': default[0] if default else None,
                           'frr': frr.owner(read_text(frr.CONFIG)),
                           'inspect': inspect(record, pools, desired)})


def main():
    run_module(AnsibleModule(argument_spec=dict(state_dir=dict(type='path', default='/var/lib/netplumb')),
                             supports_check_mode=True), reconcile)


if __name__ == '__main__':
    main()
