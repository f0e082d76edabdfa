# netplumb.container — developer entry points. Run as root on Debian 12.
#   make demo          a 3-host lab with playbooks/site.yml converged on it (left up)
#   make test          everything CI runs: lint, unit, integration (newest and Debian's pyroute2),
#                      molecule, sanity, build
#   make bench-bridge  one host, 200 and 1000 endpoints: our role vs ip -batch, CNI plugins, Ansible fixed
#                      cost - converge, no-change re-run, teardown
#   make bench-firewall TCP connections/s through a published port with 1 and 100 networks, both backends
#   make bench-overlay labs of 3 and 10 hosts, 50 endpoints each on 2 overlays: converge, re-run, entries
#   make bench-evpn    the same on lab machines, static and BGP EVPN (FRR) side by side: module CPU, entries written,
#                      one endpoint added on one host - the run, the hosts it changes, when the others reach it
#   make bench-dns     lookups/s and latency from an endpoint (name, alias, external) vs the same server from the host
#   make lab           a lab of LAB_COUNT virtual hosts named LAB (make lab-destroy removes it)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV        ?= .venv
PY          := $(VENV)/bin/python
BIN         := $(VENV)/bin
# The system interpreter: it is what managed Debian hosts run modules with, and its
# python3-pyroute2 (0.7.2 on Debian 12) is the oldest pyroute2 we support.
SYSTEM_PY   := /usr/bin/python3
APT_PACKAGES := python3 python3-venv python3-pyroute2 python3-apt python3-nftables iproute2 iptables nftables iputils-ping util-linux git openssh-server openssh-client netcat-openbsd debootstrap systemd-container unbound bind9-dnsutils dnsperf graphviz
BUILD       := .build
SANITY_ROOT := $(BUILD)/sanity/ansible_collections/netplumb/container
PYTEST      := $(PY) -m pytest -p no:cacheprovider
# Ansible finds this checkout as netplumb.container through a symlink in .build/collections.
COLLECTIONS := $(abspath $(BUILD))/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(abspath $(BIN)):$(PATH)
# Plays on the implicit localhost (the lab) need no inventory: do not warn about it.
export ANSIBLE_LOCALHOST_WARNING := false
export ANSIBLE_INVENTORY_UNPARSED_WARNING := false
# Lab machines (kind machine) boot this Debian image with systemd-nspawn; built once with
# debootstrap, holding what managed hosts need, so nothing inside a machine reaches the network.
# A cache, kept outside the labs' directory: destroying a lab leaves it for the next one; rebuilt
# when its packages change (LAB_IMAGE_STAMP). The paths are lab/plugins/module_utils/_machine.py's too.
LAB_IMAGES  := /var/cache/netplumb-lab
LAB_IMAGE   := $(LAB_IMAGES)/debian-12-frr
LAB_IMAGE_TRIXIE := $(LAB_IMAGES)/debian-13-frr
# Where Debian's packages come from: the machine's own apt sources (tools/debian_mirror.py), so a
# company mirror or proxy serves the image as it serves apt; make lab-image DEBIAN_MIRROR=URI overrides it.
DEBIAN_MIRROR ?=
# (python3-venv: the newest ansible-core's sanity test runs in a Debian 13 machine, in virtual environments)
LAB_IMAGE_PACKAGES := systemd-sysv,libpam-systemd,dbus,openssh-server,iproute2,iputils-ping,netcat-openbsd,procps,python3,python3-venv,python3-apt,python3-pyroute2,python3-nftables,nftables,iptables,firewalld,unbound,frr,frr-pythontools
# A cached image is rebuilt when the packages it holds change: its stamp names them.
LAB_IMAGE_STAMP := .netplumb-lab-image-$(shell printf '%s' '$(LAB_IMAGE_PACKAGES)' | sha1sum | cut -c1-12)
LAB         ?= demo
LAB_COUNT   ?= 3

.PHONY: all deps system-packages collection-link demo demo-destroy lab lab-image lab-image-trixie lab-destroy test lint unit \
        integration integration-newest integration-debian cores molecule sanity build bench-lab bench-bridge bench-firewall bench-overlay bench-evpn bench-dns clean

all: test

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.installed: tests/requirements.txt | system-packages
	$(SYSTEM_PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r tests/requirements.txt
	touch $@

deps: system-packages $(VENV)/.installed collection-link

collection-link:
	@mkdir -p $(COLLECTIONS)/ansible_collections/netplumb
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/netplumb/container
	@ln -sfn $(CURDIR)/lab $(COLLECTIONS)/ansible_collections/netplumb/lab

lab-image: $(LAB_IMAGE)/$(LAB_IMAGE_STAMP)

lab-image-trixie: $(LAB_IMAGE_TRIXIE)/$(LAB_IMAGE_STAMP)

# debootstrap mounts /proc and /sys in the target: in a mount namespace of its own, so the
# machine's mount table never changes. firewalld is installed but off (a test turns it on), and
# so is the distribution's own unbound (netplumb runs its own); the machine's name server is a
# stub on its loopback, as systemd-resolved's, with nothing behind it unless a test starts one.
# One image per Debian release: debian-12-frr (bookworm), debian-13-frr (trixie).
$(LAB_IMAGES)/debian-%-frr/$(LAB_IMAGE_STAMP): | system-packages
	image=$(LAB_IMAGES)/debian-$*-frr; release=$(if $(filter 12,$*),bookworm,$(if $(filter 13,$*),trixie,unknown)); \
	rm -rf $$image.tmp && mkdir -p $(LAB_IMAGES); \
	mirror="$(DEBIAN_MIRROR)"; [ -n "$$mirror" ] || mirror=$$($(SYSTEM_PY) tools/debian_mirror.py); \
	echo "lab image $$release from $$mirror"; \
	unshare --mount --propagation private debootstrap --variant=minbase --include=$(LAB_IMAGE_PACKAGES) \
	  $$release $$image.tmp "$$mirror" > $(LAB_IMAGES)/debootstrap-$*.log 2>&1 \
	  || { tail -20 $(LAB_IMAGES)/debootstrap-$*.log; exit 1; }; \
	: > $$image.tmp/etc/machine-id; \
	systemctl --root=$$image.tmp --quiet disable firewalld.service unbound.service frr.service; \
	printf 'nameserver 127.0.0.53\n' > $$image.tmp/etc/resolv.conf; \
	systemctl --root=$$image.tmp --quiet mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer; \
	rm -rf $$image && mv $$image.tmp $$image && touch $$image/.netplumb-lab-image $$image/$(LAB_IMAGE_STAMP)

# The controllers proved besides the tests' own ansible-core (tests/requirements.txt), in README's
# support table: the oldest we support (requires_ansible; ansible-lint's production profile accepts
# no older), in a virtual environment of this machine's Python; the newest needs Python 3.12+, so it
# runs in a Debian 13 lab machine, from wheels fetched here (tools/core_wheels.py: machines reach no network).
OLDEST_CORE := 2.15.13
NEWEST_CORE := 2.21.5
CORES       := $(abspath $(BUILD))/cores
OLDEST_CORE_VENV := $(CORES)/ansible-core-$(OLDEST_CORE)
NEWEST_CORE_WHEELS := $(CORES)/wheels-$(NEWEST_CORE)

cores: $(OLDEST_CORE_VENV)/.installed $(NEWEST_CORE_WHEELS)/.fetched

$(OLDEST_CORE_VENV)/.installed: | system-packages
	rm -rf $(@D) && $(SYSTEM_PY) -m venv $(@D)
	$(@D)/bin/pip install -q --disable-pip-version-check ansible-core==$(OLDEST_CORE)
	touch $@

$(NEWEST_CORE_WHEELS)/.fetched: | $(VENV)/.installed
	rm -rf $(@D) && $(PY) tools/core_wheels.py $(NEWEST_CORE) $(@D)
	touch $@

lab: deps
	ansible-playbook playbooks/lab.yml -e lab_name=$(LAB) -e lab_count=$(LAB_COUNT) -e lab_outside=true

lab-destroy: deps
	ansible-playbook playbooks/lab.yml -e lab_name=$(LAB) -e lab_state=absent

demo: lab
	ansible-playbook -i /var/lib/netplumb-lab/$(LAB)/inventory.yml -i inventories/demo playbooks/site.yml
	@$(PY) tools/show_lab.py $(LAB)
	@ansible-playbook -i /var/lib/netplumb-lab/$(LAB)/inventory.yml -i inventories/demo playbooks/graph.yml \
	  -e netplumb_graph_dir=/var/lib/netplumb-lab/$(LAB) > /var/lib/netplumb-lab/$(LAB)/graph.log \
	  || { tail -20 /var/lib/netplumb-lab/$(LAB)/graph.log; exit 1; }
	@echo "A drawing of the lab's networks: /var/lib/netplumb-lab/$(LAB)/networks.svg and /var/lib/netplumb-lab/$(LAB)/networks.png"
	@echo "The lab is left up: ssh -F /var/lib/netplumb-lab/$(LAB)/ssh_config host1 ... ; remove it with: make lab-destroy"

demo-destroy: lab-destroy

test: lint unit integration molecule sanity build

# Lab hosts share the machine's PID namespace: a process is ended by the PID it was started with,
# never by a name pattern, which would end other people's processes too.
lint: deps
	ansible-lint --profile production --nocolor
	@! git grep -nwE 'pkill|killall' -- plugins roles playbooks molecule tests lab tools benchmarks \
	  || { echo 'lint: a pattern kill (pkill, killall) in the code above; end processes by their PID'; exit 1; }

unit: deps
	$(PYTEST) -q tests/unit

integration: integration-newest integration-debian

molecule: deps lab-image lab-image-trixie
	molecule test -s default
	molecule test -s bridge
	molecule test -s overlay
	molecule test -s machines
	molecule test -s trixie
	molecule test -s evpn

integration-newest: deps cores lab-image lab-image-trixie
	@echo "== integration tests, modules on pyroute2 $$($(PY) -c 'import pyroute2; print(pyroute2.__version__)')"
	NETPLUMB_REQUIRE_ROOT=1 NETPLUMB_TEST_PYTHON=$(abspath $(PY)) NETPLUMB_OLDEST_CORE=$(OLDEST_CORE_VENV) \
	  NETPLUMB_NEWEST_CORE_WHEELS=$(NEWEST_CORE_WHEELS) $(PYTEST) -q tests/integration

integration-debian: deps
	@echo "== integration tests, modules on Debian's python3-pyroute2 $$(dpkg-query -W -f='$${Version}' python3-pyroute2)"
	NETPLUMB_REQUIRE_ROOT=1 NETPLUMB_TEST_PYTHON=$(SYSTEM_PY) $(PYTEST) -q -m 'not any_interpreter' tests/integration

# ansible-test wants the collection under ansible_collections/NAMESPACE/NAME, and
# bootstraps pip in its own virtual environments with a script from a host that is not
# a package index; tools/ansible_test_get_pip.py stands in for it.
sanity: deps
	rm -rf $(BUILD)/sanity && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard | grep -v '^lab/' | tar -cf - -T - | tar -xf - -C $(SANITY_ROOT)
	cd $(SANITY_ROOT) && git init -q && git add -A
	pip_version=$$($(PY) -c "import ansible_test._internal.python_requirements as r, types; \
	  print(r.get_venv_packages(types.SimpleNamespace(version='3.11'))['pip'])"); \
	mkdir -p ~/.ansible/test/cache && \
	cp tools/ansible_test_get_pip.py ~/.ansible/test/cache/get_pip_$${pip_version//./_}.py
	cd $(SANITY_ROOT) && ansible-test sanity --local --requirements --python 3.11 --color no

# Build the collection and check it as users' platforms will: no lab files in the tarball, the
# tarball installs, ansible-doc shows every module's and the role's documentation, Galaxy's
# importer accepts it with no warning, and the execution environment definition builds a context
# (ansible-builder) while introspection still finds what the modules need.
MODULES := netns veth bridge route vxlan ipam nat_rule topology topology_info bgp_evpn
# an action on the controller, with no option
CONTROLLER_MODULES := play_info
build: deps
	rm -rf $(BUILD)/dist $(BUILD)/installed $(BUILD)/ee && mkdir -p $(BUILD)/dist
	ansible-galaxy collection build --force --output-path $(BUILD)/dist
	tarball=$$(ls $(BUILD)/dist/netplumb-container-*.tar.gz); \
	if tar -tzf $$tarball | grep -E '^(lab|molecule)/|modules/lab\.py|_lab\.py|roles/lab/'; then \
	  echo "$$tarball holds the lab (test scaffolding)"; exit 1; fi
	ansible-galaxy collection install --force -p $(BUILD)/installed $(BUILD)/dist/netplumb-container-*.tar.gz
	for module in $(MODULES); do \
	  doc=$$(ANSIBLE_NOCOLOR=1 ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-doc netplumb.container.$$module); \
	  for part in OPTIONS ATTRIBUTES check_mode diff_mode EXAMPLES 'RETURN VALUES'; do \
	    grep -q "$$part" <<<"$$doc" || { echo "ansible-doc netplumb.container.$$module lacks $$part"; exit 1; }; \
	  done; \
	done
	for module in $(CONTROLLER_MODULES); do \
	  doc=$$(ANSIBLE_NOCOLOR=1 ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-doc netplumb.container.$$module); \
	  for part in ATTRIBUTES check_mode EXAMPLES 'RETURN VALUES'; do \
	    grep -q "$$part" <<<"$$doc" || { echo "ansible-doc netplumb.container.$$module lacks $$part"; exit 1; }; \
	  done; \
	done
	doc=$$(ANSIBLE_NOCOLOR=1 ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-doc -t role netplumb.container.network); \
	for part in netplumb_networks netplumb_endpoints 'driver' 'published' 'default: bridge' 'type: list'; do \
	  grep -qF -- "$$part" <<<"$$doc" || { echo "ansible-doc -t role netplumb.container.network lacks $$part"; exit 1; }; \
	done
	cd $(BUILD)/dist && python -m galaxy_importer.main netplumb-container-*.tar.gz > importer.log 2>&1 \
	  || { cat importer.log; exit 1; }
	if grep -E 'WARNING|ERROR|Error' $(BUILD)/dist/importer.log; then echo "galaxy-importer: see above"; exit 1; fi
	ansible-builder introspect --sanitize $(BUILD)/installed > $(BUILD)/introspect.txt
	for need in pyroute2 iproute2 iptables nftables; do \
	  grep -q $$need $(BUILD)/introspect.txt || { echo "ansible-builder introspect does not find $$need"; exit 1; }; \
	done
	ansible-builder create -f execution-environment/execution-environment.yml --context $(BUILD)/ee
	@echo "built, installed, imported and EE-checked $$(ls $(BUILD)/dist/*.tar.gz)"

bench-lab: deps
	$(PY) benchmarks/lab_timing.py 5

bench-bridge: deps
	dpkg -s containernetworking-plugins >/dev/null 2>&1 || apt-get install -y containernetworking-plugins
	$(PY) benchmarks/bridge_scale.py --endpoints 200 1000

bench-firewall: deps
	$(PY) benchmarks/firewall_scale.py --networks 100

bench-overlay: deps
	$(PY) benchmarks/overlay_scale.py --sizes 3 10 --endpoints 50

bench-evpn: deps lab-image
	$(PY) benchmarks/overlay_scale.py --control-plane evpn --sizes 3 10 --endpoints 50

bench-dns: deps
	$(PY) benchmarks/dns_names.py --endpoints 10 1000

clean:
	rm -rf $(BUILD) $(VENV)
