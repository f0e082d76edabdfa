# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall layer: what a network wants as facts (facts), the nftables and iptables backends
and the choice between them (backends), foreign firewalls (coexist, firewalld)."""
