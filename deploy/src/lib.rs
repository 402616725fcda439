//! `picket-deploy`: installer and operator tooling — the hub's CA and
//! per-unit identities, provisioning bundles, unit images, systemd units,
//! cross builds and scale-out configs.
//!
//! What exists today is the machine set-up script `deploy/setup.sh` (run by
//! `make demo` and `make test`) and the demo script `deploy/demo.sh`. The
//! sync issue brings `picket-deploy ca init` and `unit provision`.
