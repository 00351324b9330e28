base:
  '*':
    - common
  'slurm-*':
    - slurm.node
  'gpu-*':
    - slurm.node
    - monitoring
