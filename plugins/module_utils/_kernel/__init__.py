# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel layer: observe over netlink (rtnl, links, observe), one operation (op) and how it is
applied (changes), the sockets per namespace (handles), named namespaces (netns), sysctls. It
imports nothing above it (tests/unit/test_layers.py)."""
