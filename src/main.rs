fn main() -> std::process::ExitCode {
    vault_fetch_relay::main()
}
