//! `predict`: text in, outputs out — streamed, one bad line never costing the rest.
//!
//! Standard input is read by a thread of its own into a bounded queue; the decoder takes what
//! is there (at least one line, at most [`CHUNK`]), predicts it as one batch and writes its
//! outputs before taking more. A million-word list so runs in bounded memory at full batch
//! speed, and a slow producer (a person typing, a pipe fed line by line) sees each output as
//! soon as its line is in.

use std::io::{BufRead, Write};
use std::sync::mpsc;

use clap::{Args, ValueEnum};
use trainer::{DecodingOptions, Prediction, TaskKind, Trained, TrainerError};

use crate::decode_args::{DecodeArgs, decoding, load_runs};

/// Lines predicted together at most: enough for full batches on every core, few enough that
/// memory stays bounded.
const CHUNK: usize = 2048;

/// How predictions are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The output, one line per input; with --nbest N, N lines `OUTPUT<TAB>LOG_PROB` per input.
    Text,
    /// One JSON object per input: tokens, attention weights, log-probability, warnings, and
    /// with --nbest the `n_best` list.
    Json,
    /// A pronunciation lexicon in CMUdict form, `INPUT<TAB>PH PH …`, one line per variant
    /// (with --nbest); --scores adds a log-probability column, `INPUT<TAB>LOG_PROB<TAB>PH PH …`,
    /// as Phonetisaurus writes it. Inputs without a prediction get no line.
    Lexicon,
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Inputs; standard input is read line by line when none is given.
    text: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The same as --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Print the N best hypotheses of each input, each with its log-probability (N ≤ the beam
    /// width).
    #[arg(long, default_value_t = 1, value_name = "N")]
    nbest: usize,
    /// --format lexicon: add the log-probability column.
    #[arg(long)]
    scores: bool,
    /// G2P: each input is running text ("Hello, world! It's 2026."): its words pronounced in
    /// order (lexicon first, then the model), numbers spelled out as words, punctuation kept;
    /// text output joins them with ` | `, JSON lists each token with its origin.
    #[arg(long, conflicts_with_all = ["scores", "nbest"])]
    running_text: bool,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// One input: where it came from (for messages) and its text, or why it has none.
struct Line {
    label: String,
    text: Result<String, String>,
}

/// `predict`: every input gets its output line (or its warning); the command fails at the end
/// if any input could not be predicted.
pub fn run(args: PredictArgs) -> Result<(), PredictError> {
    let format = if args.json { Format::Json } else { args.format };
    if args.scores && format != Format::Lexicon {
        return Err(TrainerError::invalid(
            "--scores",
            "(given)",
            "adds a column to --format lexicon only (text and JSON show log-probabilities with --nbest)",
        )
        .into());
    }
    let trained = load_runs(&args.decode)?;
    let options = decoding(&trained, &args.decode)?;
    if args.running_text && (format == Format::Lexicon || trained.config.task.kind != TaskKind::G2p)
    {
        return Err(TrainerError::invalid(
            "--running-text",
            "(given)",
            "reads text for a g2p run, printed as text or JSON (not --format lexicon)",
        )
        .into());
    }
    let printer = Printer {
        format,
        scores: args.scores,
        running_text: args.running_text,
    };
    let mut tally = Tally::default();
    if args.text.is_empty() {
        let (sender, receiver) = mpsc::sync_channel(CHUNK);
        let limits = LineLimits {
            bytes: trained.max_input_bytes(),
            tokens: trained.input_limit,
        };
        std::thread::spawn(move || read_lines(std::io::stdin().lock(), limits, &sender));
        while let Some(chunk) = next_chunk(&receiver) {
            predict_chunk(&trained, &options, args.nbest, &printer, chunk?, &mut tally)?;
        }
    } else {
        let lines = args
            .text
            .into_iter()
            .enumerate()
            .map(|(i, text)| Line {
                label: format!("input {}", i + 1),
                text: Ok(text),
            })
            .collect();
        predict_chunk(&trained, &options, args.nbest, &printer, lines, &mut tally)?;
    }
    tally.outcome()
}

/// How long a line of standard input may be.
#[derive(Clone, Copy)]
struct LineLimits {
    /// Bytes kept of a line: a longer one is read past, never held.
    bytes: usize,
    /// The model's input limit in tokens, for the message.
    tokens: usize,
}

/// Sends each line of `input` (without its `\n` or `\r\n`) to `sender`, numbered from 1; a line
/// that is not UTF-8, or longer than `limits.bytes` (read past without being held, so that no
/// line can take the memory), is sent as its error. Stops at the end of the input, on a read
/// error (sent on), or when the receiver is gone.
fn read_lines(
    mut input: impl BufRead,
    limits: LineLimits,
    sender: &mpsc::SyncSender<Result<Line, TrainerError>>,
) {
    let mut buffer = Vec::new();
    for number in 1.. {
        buffer.clear();
        let length = match read_line_bounded(&mut input, &mut buffer, limits.bytes) {
            Ok(None) => return,
            Ok(Some(length)) => length,
            Err(e) => {
                let _ = sender.send(Err(TrainerError::io("<stdin>", e)));
                return;
            }
        };
        let bytes = buffer
            .strip_suffix(b"\n")
            .map_or(&buffer[..], |b| b.strip_suffix(b"\r").unwrap_or(b));
        let text = if length > buffer.len() {
            Err(format!(
                "has {length} bytes, more than an input within the input limit of {} tokens can have ({} bytes): it was not read",
                limits.tokens, limits.bytes
            ))
        } else {
            String::from_utf8(bytes.to_vec()).map_err(|e| {
                format!(
                    "is not UTF-8 text (invalid byte at column {})",
                    e.utf8_error().valid_up_to() + 1
                )
            })
        };
        let line = Line {
            label: format!("line {number}"),
            text,
        };
        if sender.send(Ok(line)).is_err() {
            return;
        }
    }
}

/// Reads one line (up to and with its `\n`) into `buffer`, keeping at most `max` bytes and a
/// line ending: returns the line's whole length in bytes (more than `buffer` holds if it was
/// longer), or `None` at the end of the input.
fn read_line_bounded(
    input: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<usize>> {
    let mut length = 0;
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok((length > 0).then_some(length));
        }
        let (take, ends) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if length + take <= max + 2 {
            buffer.extend_from_slice(&available[..take]);
        }
        length += take;
        input.consume(take);
        if ends {
            return Ok(Some(length));
        }
    }
}

/// The lines waiting in the queue: blocks for the first, takes the rest that are already there
/// (up to [`CHUNK`]). `None` once the input is over.
fn next_chunk(
    receiver: &mpsc::Receiver<Result<Line, TrainerError>>,
) -> Option<Result<Vec<Line>, TrainerError>> {
    let first = receiver.recv().ok()?;
    let mut chunk = Vec::with_capacity(CHUNK);
    match first {
        Ok(line) => chunk.push(line),
        Err(e) => return Some(Err(e)),
    }
    while chunk.len() < CHUNK {
        match receiver.try_recv() {
            Ok(Ok(line)) => chunk.push(line),
            Ok(Err(e)) => return Some(Err(e)),
            Err(_) => break,
        }
    }
    Some(Ok(chunk))
}

/// Inputs that could not be predicted so far.
#[derive(Default)]
struct Tally {
    inputs: usize,
    failed: Vec<String>,
}

impl Tally {
    fn outcome(self) -> Result<(), PredictError> {
        match self.failed.first() {
            None => Ok(()),
            Some(first) => Err(PredictError::InputsFailed {
                failed: self.failed.len(),
                inputs: self.inputs,
                first: first.clone(),
            }),
        }
    }
}

/// Why `predict` exits with a failure.
#[derive(Debug)]
pub enum PredictError {
    /// The model, the options or an output stream failed: nothing more could be done.
    Trainer(TrainerError),
    /// Some inputs had no prediction (each got its warning); the others were written.
    InputsFailed {
        /// How many had none.
        failed: usize,
        /// How many inputs there were.
        inputs: usize,
        /// The first one's message, naming its line.
        first: String,
    },
}

impl From<TrainerError> for PredictError {
    fn from(e: TrainerError) -> Self {
        Self::Trainer(e)
    }
}

impl std::fmt::Display for PredictError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Trainer(e) => e.fmt(f),
            Self::InputsFailed {
                failed,
                inputs,
                first,
            } => {
                write!(
                    f,
                    "{failed} of {inputs} inputs could not be predicted ({first})"
                )?;
                if failed < inputs {
                    write!(f, "; the others were")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PredictError {}

/// Predicts one chunk and prints it in input order; a line that cannot be predicted gets a
/// warning on standard error and (in text and JSON) its empty place in the output.
fn predict_chunk(
    trained: &Trained,
    options: &DecodingOptions,
    n_best: usize,
    printer: &Printer,
    lines: Vec<Line>,
    tally: &mut Tally,
) -> Result<(), TrainerError> {
    let texts: Vec<String> = lines
        .iter()
        .map(|l| l.text.clone().unwrap_or_default())
        .collect();
    if printer.running_text {
        return predict_text_chunk(trained, options, printer, lines, &texts, tally);
    }
    let predictions = trained.predict_each(&texts, options, n_best)?;
    let mut out = std::io::stdout().lock();
    for (line, prediction) in lines.into_iter().zip(predictions) {
        tally.inputs += 1;
        let outcome = match (line.text, prediction) {
            (Err(message), _) => Err(message),
            (Ok(_), Err(e)) => Err(e.to_string()),
            (Ok(_), Ok(p)) => printer.check(&p).map(|()| p),
        };
        match outcome {
            Ok(prediction) => {
                for warning in &prediction.warnings {
                    eprintln!("warning: {} {:?}: {warning}", line.label, prediction.input);
                }
                printer.print(&mut out, &prediction)
            }
            Err(message) => printer.fail(&mut out, tally, &line.label, &message),
        }
        .map_err(|e| TrainerError::io("<stdout>", e))?;
    }
    out.flush().map_err(|e| TrainerError::io("<stdout>", e))
}

/// [`predict_chunk`] for running text: each line's words pronounced in order, punctuation kept.
fn predict_text_chunk(
    trained: &Trained,
    options: &DecodingOptions,
    printer: &Printer,
    lines: Vec<Line>,
    texts: &[String],
    tally: &mut Tally,
) -> Result<(), TrainerError> {
    let predictions = trained.predict_text(texts, options)?;
    let mut out = std::io::stdout().lock();
    for (line, prediction) in lines.into_iter().zip(predictions) {
        tally.inputs += 1;
        match (line.text, prediction) {
            (Ok(_), Ok(prediction)) => {
                for warning in &prediction.warnings {
                    eprintln!("warning: {}: {warning}", line.label);
                }
                match printer.format {
                    Format::Json => writeln!(
                        out,
                        "{}",
                        serde_json::to_string(&prediction).expect("serialisable")
                    ),
                    _ => writeln!(out, "{}", prediction.pronounced()),
                }
            }
            (Err(message), _) => printer.fail(&mut out, tally, &line.label, &message),
            (Ok(_), Err(e)) => printer.fail(&mut out, tally, &line.label, &e.to_string()),
        }
        .map_err(|e| TrainerError::io("<stdout>", e))?;
    }
    out.flush().map_err(|e| TrainerError::io("<stdout>", e))
}

/// Writes predictions in one [`Format`].
struct Printer {
    format: Format,
    scores: bool,
    /// Inputs are running text ([`Trained::predict_text`]).
    running_text: bool,
}

impl Printer {
    /// Whether the prediction can be written in this format (a lexicon entry's word is one
    /// field, so it cannot hold whitespace).
    fn check(&self, prediction: &Prediction) -> Result<(), String> {
        if self.format == Format::Lexicon && prediction.input.trim().contains(char::is_whitespace) {
            return Err(format!(
                "{:?} holds whitespace, which a lexicon entry's word cannot",
                prediction.input
            ));
        }
        Ok(())
    }

    fn print(&self, out: &mut impl Write, prediction: &Prediction) -> std::io::Result<()> {
        let hypotheses: Vec<(&str, f32)> = if prediction.n_best.is_empty() {
            vec![(&prediction.output, prediction.log_prob)]
        } else {
            prediction
                .n_best
                .iter()
                .map(|h| (h.output.as_str(), h.log_prob))
                .collect()
        };
        match self.format {
            Format::Json => writeln!(
                out,
                "{}",
                serde_json::to_string(prediction).expect("serialisable")
            ),
            Format::Text if prediction.n_best.is_empty() => writeln!(out, "{}", prediction.output),
            Format::Text => hypotheses
                .iter()
                .try_for_each(|(output, lp)| writeln!(out, "{output}\t{lp:.4}")),
            Format::Lexicon => {
                let word = prediction.input.trim();
                hypotheses.iter().try_for_each(|(output, lp)| {
                    if self.scores {
                        writeln!(out, "{word}\t{lp:.4}\t{output}")
                    } else {
                        writeln!(out, "{word}\t{output}")
                    }
                })
            }
        }
    }

    /// An input without a prediction: its warning, its place in the output, and its count.
    fn fail(
        &self,
        out: &mut impl Write,
        tally: &mut Tally,
        label: &str,
        message: &str,
    ) -> std::io::Result<()> {
        let message = format!("{label}: {message}");
        eprintln!("warning: {message}");
        let printed = self.print_failed(out, &message);
        tally.failed.push(message);
        printed
    }

    /// The place of an input without a prediction: an empty line (text), a JSON object naming
    /// the error (JSON), nothing (lexicon).
    fn print_failed(&self, out: &mut impl Write, message: &str) -> std::io::Result<()> {
        match self.format {
            Format::Text => writeln!(out),
            Format::Json => writeln!(out, "{}", serde_json::json!({ "error": message })),
            Format::Lexicon => Ok(()),
        }
    }
}
