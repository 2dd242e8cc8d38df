#!/usr/bin/env bash
# mpirun with the settings a single workstation or container needs: allow running as root (CI
# and containers) and more ranks than cores (the master mostly waits). On a cluster call mpirun
# (or srun) directly, see slurm/.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
exec mpirun "$@"
