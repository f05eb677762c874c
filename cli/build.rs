//! Tells the binary which cargo profile built it, so that `bench` (whose timings mean
//! something only in a `--release` build) can hand over to the release build from any other —
//! the dev profile that `cargo xtask` uses is optimised too, but is not what the benchmark's
//! figures are measured on.

fn main() {
    let profile = std::env::var("PROFILE").unwrap_or_default();
    println!("cargo:rustc-env=SEQ2SEQ_BUILD_PROFILE={profile}");
    println!("cargo:rerun-if-changed=build.rs");
}
