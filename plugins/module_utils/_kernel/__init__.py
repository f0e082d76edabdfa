# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel layer: observe over netlink (rtnl, links, observe), apply operations (changes), named
namespaces (netns), sysctls."""
