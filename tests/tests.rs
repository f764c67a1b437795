//! The integration tests: one test binary (as ripgrep does) so `support` and the
//! dev-dependencies are compiled and linked once, not once per file. Each module is
//! one area; run one with `cargo test --test tests -- front_ends::`.

mod support;

mod atomic_kill;
mod broken_pipe;
mod ci_workflow;
mod cli;
mod deployment_event;
mod dev_server_cli;
mod devserver;
mod doc_examples;
mod exec;
mod fault_matrix;
mod fleet;
mod front_ends;
mod helm_chart;
mod kubernetes_examples;
mod leaks;
mod line_breaks;
mod properties;
mod proxy;
mod release_package;
mod terraform_aws;
mod terraform_files;
mod terraform_mode;
mod unwritable;
mod upstream;
mod upstream_rules;
mod upstream_standin;
mod workos_sdk;
