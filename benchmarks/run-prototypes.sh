#!/bin/sh
# Every prototype benchmark in benchmarks/prototypes.md, in an order that reuses the on-disk
# representation cache: seed 0 of the transfer matrix first (Table 2 / Fig 2), then Fig 3,
# Fig 1 and the group-bias report (cache hits for the same texts), then seed 1, the guard
# table and the build-time benchmark. Every step resumes from its results file.
set -e
H="${HATEPROTO:-hateproto}"
C=benchmarks/configs
$H experiment cross-domain -c $C/prototypes-transfer.yaml --seeds 0
$H experiment prototype-size -c $C/prototypes-size.yaml
$H experiment fine-grained -c $C/prototypes-fine-grained.yaml --seeds 0
$H experiment group-bias -c $C/prototypes-group-bias.yaml --seeds 0
$H experiment cross-domain -c $C/prototypes-transfer.yaml
$H experiment prototype-transfer -c $C/prototypes-transfer.yaml
$H experiment fine-grained -c $C/prototypes-fine-grained.yaml
$H experiment group-bias -c $C/prototypes-group-bias.yaml
$H experiment guard -c $C/prototypes-guard.yaml
$H experiment prototype-build-time -c $C/prototypes-build-time.yaml
