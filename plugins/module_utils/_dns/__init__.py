# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The name server of the networks: what unbound, resolv.conf, nft and systemd read (unbound), and
the host side that observes and changes the server (server); the planner phase that decides what
it answers is the topology's (_topology/dns.py)."""
