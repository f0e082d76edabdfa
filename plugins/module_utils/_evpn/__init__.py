# -*- coding: utf-8 -*-
# Copyright: netplumb developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BGP EVPN on FRR: the configuration netplumb writes for overlays with control_plane evpn (frr), and
the programs that apply it (host: systemctl, frr-reload.py)."""
