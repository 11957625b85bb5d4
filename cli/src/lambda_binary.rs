//! Will this `bootstrap` start on `provided.al2023`? Read off its ELF before it is packaged: Lambda would only say
//! so at the first invocation, as a `Runtime.InvalidEntrypoint` or a dynamic-loader error in the function's log.

use object::Endianness;
use object::elf::{self, FileHeader64};
use object::read::elf::{Dyn, FileHeader};
use thiserror::Error;

/// The glibc of Amazon Linux 2023, the OS of `provided.al2023`.
pub const LAMBDA_GLIBC: GlibcVersion = GlibcVersion(2, 34);

/// The shared libraries the OS-only runtime has: glibc's own, and libgcc's unwinder.
const LAMBDA_LIBRARIES: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LambdaBinaryError {
    #[error("bootstrap is not a 64-bit Linux executable (ELF): {0}")]
    NotElf(String),
    #[error("bootstrap is built for ELF machine {0}; Lambda runs x86_64 and arm64 (aarch64)")]
    UnsupportedArchitecture(u16),
    #[error(
        "bootstrap needs {required}, and provided.al2023 has glibc {LAMBDA_GLIBC}: build it against that glibc, \
         e.g. `cargo zigbuild --release --target {arch}-unknown-linux-gnu.2.34 --bin bootstrap`"
    )]
    NewerGlibc { required: String, arch: &'static str },
    #[error("bootstrap loads {0}, which provided.al2023 does not have: link it statically (e.g. rustls, not OpenSSL)")]
    MissingLibrary(String),
}

/// A glibc symbol version, `GLIBC_2.34` → `2.34`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GlibcVersion(pub u32, pub u32);

impl std::fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl GlibcVersion {
    /// `GLIBC_2.2.5` → 2.2 (a patch level never decides whether 2.34 has it); other version names are not glibc's.
    fn parse(name: &str) -> Option<Self> {
        let mut numbers = name
            .strip_prefix("GLIBC_")?
            .split('.')
            .map(|part| part.parse::<u32>().ok());
        Some(Self(numbers.next()??, numbers.next().flatten().unwrap_or(0)))
    }
}

/// What Lambda needs to know about a `bootstrap`.
#[derive(Debug, PartialEq, Eq)]
pub struct LambdaBinary {
    /// `x86_64` or `arm64`, as `Architectures` in template.yml spells it.
    pub architecture: &'static str,
    /// The newest glibc symbol version it links; `None` for a static binary.
    pub glibc: Option<GlibcVersion>,
    /// It has `.debug_*` sections, as a debug build has (the release profile strips them).
    pub debug_info: bool,
}

/// How to build the `bootstrap` Lambda should run: optimized, stripped, against provided.al2023's glibc.
pub const RELEASE_BUILD: &str =
    "cargo zigbuild --release --locked -p pia-provider --bin bootstrap --target x86_64-unknown-linux-gnu.2.34";

impl LambdaBinary {
    /// What to say about a binary Lambda can load but should not get.
    pub fn warning(&self) -> Option<String> {
        self.debug_info.then(|| {
            format!(
                "bootstrap carries debug info, as a debug build does: Lambda would load a larger, unoptimized handler \
                 (slower cold starts and calls). Build the release one: {RELEASE_BUILD} \
                 (then target/x86_64-unknown-linux-gnu/release/bootstrap)"
            )
        })
    }
}

/// Reads `bootstrap` and checks that `provided.al2023` can load it.
pub fn check(bootstrap: &[u8]) -> Result<LambdaBinary, LambdaBinaryError> {
    let malformed = |error: object::Error| LambdaBinaryError::NotElf(error.to_string());
    let header = FileHeader64::<Endianness>::parse(bootstrap).map_err(malformed)?;
    let endian = header.endian().map_err(malformed)?;
    let (architecture, arch) = match header.e_machine(endian) {
        elf::EM_X86_64 => ("x86_64", "x86_64"),
        elf::EM_AARCH64 => ("arm64", "aarch64"),
        other => return Err(LambdaBinaryError::UnsupportedArchitecture(other)),
    };
    let sections = header.sections(endian, bootstrap).map_err(malformed)?;
    let debug_info = sections.iter().any(|section| {
        sections
            .section_name(endian, section)
            .is_ok_and(|name| name.starts_with(b".debug_"))
    });

    if let Some((entries, strings_index)) = sections.dynamic(endian, bootstrap).map_err(malformed)? {
        let strings = sections.strings(endian, bootstrap, strings_index).map_err(malformed)?;
        for entry in entries
            .iter()
            .filter(|entry| entry.tag32(endian) == Some(elf::DT_NEEDED))
        {
            let name = entry.string(endian, strings).map_err(malformed)?;
            let name = String::from_utf8_lossy(name);
            if !LAMBDA_LIBRARIES.contains(&name.as_ref()) {
                return Err(LambdaBinaryError::MissingLibrary(name.into_owned()));
            }
        }
    }

    let mut glibc = None;
    if let Some((mut needs, strings_index)) = sections.gnu_verneed(endian, bootstrap).map_err(malformed)? {
        let strings = sections.strings(endian, bootstrap, strings_index).map_err(malformed)?;
        while let Some((_, mut versions)) = needs.next().map_err(malformed)? {
            while let Some(version) = versions.next().map_err(malformed)? {
                let name = String::from_utf8_lossy(version.name(endian, strings).map_err(malformed)?).into_owned();
                let Some(parsed) = GlibcVersion::parse(&name) else {
                    continue;
                };
                if parsed > LAMBDA_GLIBC {
                    return Err(LambdaBinaryError::NewerGlibc { required: name, arch });
                }
                glibc = glibc.max(Some(parsed));
            }
        }
    }
    Ok(LambdaBinary {
        architecture,
        glibc,
        debug_info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_version_names() {
        assert_eq!(GlibcVersion::parse("GLIBC_2.34"), Some(GlibcVersion(2, 34)));
        assert_eq!(GlibcVersion::parse("GLIBC_2.2.5"), Some(GlibcVersion(2, 2)));
        assert_eq!(GlibcVersion::parse("GLIBC_PRIVATE"), None);
        assert_eq!(GlibcVersion::parse("GCC_3.0"), None);
        assert!(GlibcVersion(2, 38) > LAMBDA_GLIBC && GlibcVersion(2, 9) < LAMBDA_GLIBC);
    }

    #[test]
    fn refuses_what_is_not_an_executable() {
        assert!(matches!(
            check(b"#!/bin/sh\necho hi\n"),
            Err(LambdaBinaryError::NotElf(_))
        ));
        assert!(matches!(check(&[]), Err(LambdaBinaryError::NotElf(_))));
    }
}
