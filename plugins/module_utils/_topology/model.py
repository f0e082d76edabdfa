# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarations -> model: the semantic checks that need no host, and the defaults that follow
from them, into a new frozen model (networks: ``model_networks``, endpoints: ``model_endpoints``,
the fields they share: ``model_fields``).

Input is what ``spec.ARGUMENT_SPEC`` let through (types, choices and defaults are the spec's);
every message names the option path and the value (``endpoints[3] (x).networks: network
nowhere is not declared``). The role runs this on the controller for every host before any host
changes, and the module runs it before it looks at the host."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netplumb.container.plugins.module_utils._errors import InvalidInput
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_endpoints import attachment, check_bridge_ports, check_endpoints, endpoint
from ansible_collections.netplumb.container.plugins.module_utils._topology.model_networks import add_network, check_pools, network
from ansible_collections.netplumb.container.plugins.module_utils._topology.spec import NETWORK_OPTIONS


class Frozen(dict):
    """A dict that refuses changes: the planner reads the model and never writes to it
    (``dict(frozen, key=value)`` makes a changed copy)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError('the model is frozen; make a copy to change it')

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _refuse


def freeze(value):
    if hasattr(value, '_fields'):
        return value            # a record (PortMapping) is immutable already
    if isinstance(value, dict):
        return Frozen((k, freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value):
    """Plain dicts and lists again, for return values and diffs."""
    if hasattr(value, 'as_result'):
        return value.as_result()
    if isinstance(value, dict):
        return dict((k, thaw(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def model(params, planned=True):
    """Spec-validated arguments -> frozen model {networks, endpoints, default_pools}; raises
    InvalidInput naming the first bad value. Needs no host state. ``planned=False``: overlays as
    declared, before the control plane fills in their VNI, local address and peers."""
    nets = {}
    for index, item in enumerate(params['networks']):
        add_network(nets, network(item, index, planned), 'networks[%d]' % index)
    eps = {}
    for index, item in enumerate(params['endpoints']):
        ep = endpoint(item, index, nets)
        if ep['name'] in eps:
            raise InvalidInput('endpoints[%d]: endpoint %s is declared twice' % (index, ep['name']))
        eps[ep['name']] = ep
    check_endpoints(nets, eps)
    _add_gateway_bridge(nets, eps, params['gateway_bridge'])
    check_bridge_ports(nets, eps)
    if params['restore_at_boot'] is False:
        with_units = [e['name'] for e in eps.values() if e['units'] and e['state'] == 'present']
        if with_units:
            raise InvalidInput('endpoints (%s).units: a workload unit needs restore_at_boot (its namespace is made '
                               'by the restore at boot, before it starts)' % with_units[0])
    return freeze({'networks': list(nets.values()), 'endpoints': list(eps.values()),
                   'default_pools': check_pools(params['default_pools']),
                   'firewall_coexistence': params['firewall_coexistence'],
                   'name_server': params.get('name_server', 'unbound')})


def _add_gateway_bridge(nets, eps, gateway):
    """Docker's docker_gwbridge: endpoints of an overlay with egress get a way out through a
    masquerading bridge network of this host (ICC off, no names)."""
    egress = set(n['name'] for n in nets.values() if n['driver'] == 'overlay' and n['state'] == 'present'
                 and n['egress'])
    users = [ep for ep in eps.values() if ep['state'] == 'present' and egress & set(a['name'] for a in ep['networks'])]
    if not users:
        return
    if gateway['name'] in nets:
        raise InvalidInput('gateway_bridge.name: %s is also a declared network' % gateway['name'])
    declared = dict((key, spec.get('default')) for key, spec in NETWORK_OPTIONS.items())
    declared.update(name=gateway['name'], bridge=gateway['bridge'], subnet=gateway['subnet'], icc=False,
                    resolve_names=False)
    add_network(nets, network(declared, len(nets)), 'gateway_bridge')
    for ep in users:
        if gateway['name'] not in [a['name'] for a in ep['networks']]:
            ep['networks'].append(attachment(gateway['name'], len(ep['networks']), 'endpoints (%s)' % ep['name']))
