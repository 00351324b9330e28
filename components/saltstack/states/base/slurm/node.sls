# Compute node: SLURM from the AppHub repository of the node's architecture.
apphub-repo:
  pkgrepo.managed:
    - name: deb [trusted=yes] http://apphub:8080/deb/{{ grains['osarch'] }} ./
    - file: /etc/apt/sources.list.d/apphub.list

slurm-node-packages:
  pkg.installed:
    - pkgs:
      - slurmd
      - munge
    - require:
      - pkgrepo: apphub-repo

munge:
  service.running:
    - enable: True
    - require:
      - pkg: slurm-node-packages

slurmd:
  service.running:
    - enable: True
    - require:
      - service: munge
