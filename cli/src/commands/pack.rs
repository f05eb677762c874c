//! `seq2seq pack`: a run made ready to ship (its files but checkpoints, the model optionally in
//! half precision).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use trainer::{Precision, TrainerError};

/// `pack`'s arguments.
#[derive(Args, Debug)]
pub struct PackArgs {
    /// The run to pack (its best model, `model.bpk`, is the one packed).
    #[arg(long)]
    run: PathBuf,
    /// The new run directory (must not hold a run).
    #[arg(long)]
    out: PathBuf,
    /// How the parameters are stored: f32 as trained, or f16 (half the bytes; read back into
    /// f32, so outputs can move slightly: evaluate the packed run).
    #[arg(long, value_enum, default_value_t = StoredPrecision::F32)]
    precision: StoredPrecision,
}

/// The `--precision` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum StoredPrecision {
    /// 32-bit floats.
    F32,
    /// 16-bit floats.
    F16,
}

/// Packs the run and says what was written.
pub fn run(args: PackArgs) -> Result<(), TrainerError> {
    let precision = match args.precision {
        StoredPrecision::F32 => Precision::Single,
        StoredPrecision::F16 => Precision::Half,
    };
    let packed = trainer::pack_run(&args.run, &args.out, precision)?;
    println!(
        "packed {} into {} ({}; model.bpk {:.1} MB)",
        args.run.display(),
        args.out.display(),
        packed.files.join(", "),
        packed.model_bytes as f64 / 1e6
    );
    Ok(())
}
