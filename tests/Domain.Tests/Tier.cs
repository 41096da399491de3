// Every test here needs no QEMU, OVS-DPDK or network namespace: `make test-fast` runs them (docs/conventions.md#tests).
[assembly: Trait("Tier", "fast")]
