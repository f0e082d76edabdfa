# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: network_graph
short_description: The inventory's container networks as a Graphviz drawing (DOT)
version_added: 0.9.0
description:
  - Draws what M(netplumb.container.topology_info) inspected on every host (its C(inspect) return, registered as
    C(network_info)) - a box per host, in it the host's bridge networks (name, bridge, subnets, gateway) and its
    endpoints (name, addresses, published ports), each endpoint joined to its networks by its interface; overlays and
    macvlan or ipvlan networks, which span hosts, are drawn once, outside the hosts, joined to the endpoints of every
    host on them.
  - Render it with Graphviz (C(dot -Tsvg), C(dot -Tpng)); C(playbooks/graph.yml) does both.
author:
  - netplumb developers (@netplumb)
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts to draw (C(groups.all)); a host without C(network_info) is drawn empty.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Write the drawing
  ansible.builtin.copy:
    content: "{{ hostvars | netplumb.container.network_graph(groups['all']) }}"
    dest: networks.dot
    mode: "0644"
'''

RETURN = r'''
_value:
  description: The drawing in Graphviz's DOT language.
  type: str
'''


def quote(text):
    """A DOT string: every character of a name as it is (a name may hold quotes or a backslash)."""
    return '"%s"' % str(text).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _subnets(net):
    return ['%s  gw %s  (%d leased, %d free)' % (s['subnet'], s['gateway'], s['leased'], s['free']) for s in net['subnets']]


def network_graph(hostvars, hosts):
    lines = ['graph networks {', '  graph [rankdir=LR, fontname="Helvetica", label="netplumb networks", labelloc=t];',
             '  node [fontname="Helvetica", fontsize=10]; edge [fontname="Helvetica", fontsize=9];']
    spanning = {}
    for host in sorted(hosts):
        info = hostvars[host].get('network_info') or {}
        seen = info.get('inspect') or {}
        underlay = ', '.join(a['address'] for a in info.get('underlay', []) if not a.get('netplumb'))
        lines.append('  subgraph %s {' % quote('cluster ' + host))
        lines.append('    label=%s; style=rounded; color=gray40;' % quote('%s  %s' % (host, underlay)))
        for name, net in sorted(seen.items()):
            if net['scope'] == 'global':
                spanning.setdefault(name, net)
                continue
            label = [name, 'bridge %s' % net['options'].get('bridge')] + _subnets(net)
            lines.append('    %s [shape=box, style=filled, fillcolor=lightblue, label=%s];'
                         % (quote('%s/%s' % (host, name)), quote('\n'.join(label))))
        endpoints = {}
        for name, net in sorted(seen.items()):
            for ep, att in sorted(net['endpoints'].items()):
                endpoints.setdefault(ep, []).append((name, net, att))
        for ep, attachments in sorted(endpoints.items()):
            label = [ep] + ['%s %s' % (att['interface'], ' '.join(a for a in (att['ipv4_address'], att['ipv6_address']) if a))
                            for _name, _net, att in attachments]
            published = sorted(set(p for _n, _net, att in attachments for p in att['published']))
            if published:
                label.append('published %s' % ', '.join(published))
            lines.append('    %s [shape=ellipse, style=filled, fillcolor=%s, label=%s];' % (
                quote('%s/%s' % (host, ep)), 'gold' if published else 'white', quote('\n'.join(label))))
        lines.append('  }')
        for ep, attachments in sorted(endpoints.items()):
            for name, net, att in attachments:
                target = name if net['scope'] == 'global' else '%s/%s' % (host, name)
                lines.append('  %s -- %s [label=%s];' % (quote('%s/%s' % (host, ep)), quote(target), quote(att['interface'])))
    for name, net in sorted(spanning.items()):
        kind = net['driver'] + (' VNI %s (%s)' % (net['options'].get('vni'), net['options'].get('control_plane'))
                                if net['driver'] == 'overlay' else ' on %s' % net['options'].get('parent'))
        lines.append('  %s [shape=box3d, style=filled, fillcolor=palegreen, label=%s];'
                     % (quote(name), quote('\n'.join([name, kind] + [s['subnet'] for s in net['subnets']]))))
    lines.append('}')
    return '\n'.join(lines) + '\n'


class FilterModule(object):
    def filters(self):
        return {'network_graph': network_graph}
