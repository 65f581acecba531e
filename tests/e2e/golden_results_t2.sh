#!/bin/bash
# The golden results on two threads (golden/results_t2.txt); see golden_results.sh.
GOLDEN_THREADS=2 exec bash "$(dirname "$0")/golden_results.sh"
