fn main() -> std::process::ExitCode {
    pia_provider::cli::main()
}
