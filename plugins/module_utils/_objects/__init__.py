# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Single-object planners: plan(desired, observed) -> operations and diff for links (plan), routes,
VXLAN devices, IPAM pools and leases."""
