node-exporter:
  pkg.installed:
    - name: prometheus-node-exporter
  service.running:
    - name: prometheus-node-exporter
    - enable: True
    - require:
      - pkg: node-exporter
