# Site settings for running ternbench under Slurm. Everything here is commented out: the
# defaults work on a plain Debian node with the packages from scripts/setup.sh. Uncomment
# and adapt what your cluster needs.
#
# This file is read twice:
#   - by you, before submitting:  source slurm/env.sh && sbatch ... slurm/sweep.sbatch ...
#     (sbatch reads the SBATCH_* variables below as if they were #SBATCH lines);
#   - by slurm/sweep.sbatch at the start of every run of the job (modules, binary, MPI).
# Keep it free of output and of `exit`: it is sourced into a `set -euo pipefail` script.

# --- Submission: partition, account, QOS (sbatch input variables) ---
# export SBATCH_PARTITION=compute
# export SBATCH_ACCOUNT=my_project
# export SBATCH_QOS=normal
# Longest time your partition allows; sweeps longer than this requeue themselves.
# export SBATCH_TIMELIMIT=24:00:00

# --- Software environment on the compute nodes ---
# Load the same compiler and MPI that ternbench was built with; srun --mpi=pmix needs an
# MPI built with PMIx support (Debian's Open MPI is).
# module purge
# module load gcc/12 openmpi/4.1 hdf5/1.10
# The binary, if it is not on PATH and not in <checkout>/build/release:
# export TB_BIN=$HOME/ternbench/build/release/orchestrator/ternbench
# Datasets: a shared directory with the IDX files (`ternbench data fetch` on a login node
# with network access; compute nodes often have none).
# export TERNBENCH_DATA=/shared/datasets/ternbench

# --- Launch ---
# srun (default) or mpirun, for sites where srun cannot start Open MPI jobs.
# export TB_LAUNCHER=mpirun
# As root (containers), Open MPI's mpirun refuses to start without these:
# export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Self-requeue on the time limit (1, default) or leave restarts to a dependency chain (0).
# export TB_REQUEUE=1
# export TB_MAX_RESTARTS=100
# Seconds between progress lines in the job log (default 60).
# export TERNBENCH_PROGRESS_INTERVAL=300
