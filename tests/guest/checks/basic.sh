#!/bin/sh
# Basic guest check: reports the CPU count, memory, clock and kernel release
# the guest sees, as VIREO-RESULT lines.
echo "VIREO-RESULT nproc=$(nproc)"
echo "VIREO-RESULT memtotal_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
echo "VIREO-RESULT date=$(date +%s)"
echo "VIREO-RESULT uname_r=$(uname -r)"
