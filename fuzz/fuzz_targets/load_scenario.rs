//! Fuzz target for scenario loading and validation: `kervan::scenario::load_with` on arbitrary
//! scenario files and `--set` overrides. Any `Err` is fine; a panic, abort, hang or huge
//! allocation is a finding (docs/fuzzing.md).
//!
//! The input (format in `kervan_fuzz::split`) is written as `s.toml` into a fresh temporary
//! directory, so relative names in it (`extends`, `trade.matrix`) resolve there (where nothing
//! else is) and bundled files are reached only as `bundled:NAME`. The simulation is never run.
//!
//! Run it from an empty scratch directory (scripts/fuzz.sh does), so that nothing relative to
//! the working directory can reach the repository. It does not change directory itself:
//! libFuzzer's -fork, -merge and -minimize_crash (tmin) modes restart the program by the name it
//! was started with, which cargo gives relative to the working directory.
//!
//! Started with `KERVAN_FUZZ_WRITE_SEEDS=DIR`, it writes the seed corpus into DIR and exits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // `KERVAN_FUZZ_WRITE_SEEDS=DIR`: write the seed corpus and stop (scripts/fuzz.sh).
        if let Some(dir) = std::env::var_os("KERVAN_FUZZ_WRITE_SEEDS") {
            let dir = std::path::PathBuf::from(dir);
            let n = kervan_fuzz::write_seeds(&dir).expect("write the seed corpus");
            eprintln!("{n} seeds written to {}", dir.display());
            std::process::exit(0);
        }
    },
    |data: &[u8]| {
        let (file, overrides) = kervan_fuzz::split(data);
        let dir = tempfile::Builder::new()
            .prefix("kervan-fuzz-")
            .tempdir()
            .expect("create a temporary directory");
        let path = dir.path().join("s.toml");
        std::fs::write(&path, file).expect("write s.toml");
        let arg = path.to_str().expect("temporary paths are UTF-8");
        // Loading and validation only: an error is a correct answer to a bad file.
        let _ = kervan::scenario::load_with(arg, &overrides);
    }
);
