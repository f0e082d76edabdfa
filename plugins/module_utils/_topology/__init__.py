# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology engine: a host's container networks and endpoints, reconciled as one plan.

A file per job, in the order data flows through them:

  spec           the one input schema (the module's argument_spec; the role checks with it too)
  model          semantic checks that need no host -> a frozen model, from
  model_networks, model_endpoints, model_fields   networks, endpoints, and the fields both check
  control_plane  the network role's inventory-wide part: overlays' VNIs, addresses and peers
  host           observe the host, then the steps that apply a plan (the module's reconcile)
  resolve        what depends on the host (carved subnets, overlay MTU) -> the resolved model
  planner        plan(resolved, observed): the phases below, merged in order
    networks       removals, bridges, overlays (and ``predict``: links after earlier operations)
    endpoints      namespaces, veth pairs, routes, hosts files
    overlay        every overlay rule: VNI, MTU, VTEP, forwarding entries
  parts          what a plan holds
  record, names  what the module made, and how it names and marks it
"""
