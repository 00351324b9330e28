base-packages:
  pkg.installed:
    - pkgs:
      - ca-certificates
      - curl
      - chrony

chrony:
  service.running:
    - enable: True
    - require:
      - pkg: base-packages
