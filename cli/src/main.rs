fn main() -> std::process::ExitCode {
    pia_cli::main()
}
