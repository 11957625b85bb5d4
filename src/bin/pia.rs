/// The static musl build ships its own allocator: musl's is slow under JSON's and the AWS SDK's small allocations.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pia_provider::cli::main()
}
