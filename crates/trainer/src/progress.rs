//! Training progress: a bar with loss and tokens/s on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Reports training progress within an epoch.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    total: usize,
    done: usize,
    tokens: usize,
    loss_sum: f64,
    loss_tokens: usize,
    started: Instant,
    /// How long the epoch's batches took, once [`finish`](Self::finish)ed: what comes after
    /// them (validation, writing the model) is not training time.
    trained_for: Option<Duration>,
    epoch: usize,
    next_line: usize,
}

impl Progress {
    /// A reporter: a bar when standard error is a terminal, plain lines when it is not, and
    /// nothing at all when `quiet`.
    pub fn new(quiet: bool) -> Self {
        Self {
            bar: None,
            quiet,
            total: 0,
            done: 0,
            tokens: 0,
            loss_sum: 0.0,
            loss_tokens: 0,
            started: Instant::now(),
            trained_for: None,
            epoch: 0,
            next_line: 0,
        }
    }

    /// Starts epoch `epoch` of `batches` batches.
    pub fn start_epoch(&mut self, epoch: usize, epochs: usize, batches: usize) {
        *self = Self {
            quiet: self.quiet,
            total: batches,
            epoch,
            ..Self::new(self.quiet)
        };
        if !self.quiet && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(batches as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} batches, {msg} ({elapsed} < {eta})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("epoch {epoch}/{epochs}"));
            self.bar = Some(bar);
        }
    }

    /// Records one batch: its mean loss per token and its token count.
    pub fn batch(&mut self, loss: f64, tokens: usize) {
        self.done += 1;
        self.tokens += tokens;
        self.loss_sum += loss * tokens as f64;
        self.loss_tokens += tokens;
        let message = format!(
            "loss {:.4}, {:.0} tok/s",
            self.mean_loss(),
            self.tokens_per_second()
        );
        if let Some(bar) = &self.bar {
            bar.set_message(message);
            bar.inc(1);
        } else if !self.quiet && self.done * 10 >= self.next_line * self.total {
            eprintln!(
                "epoch {} batch {}/{}: {message}",
                self.epoch, self.done, self.total
            );
            self.next_line = self.done * 10 / self.total.max(1) + 1;
        }
    }

    /// Continues an epoch whose first batches (loss sum and tokens) ran before a restart.
    pub fn resume_epoch(&mut self, loss_sum: f64, tokens: usize) {
        self.loss_sum = loss_sum;
        self.loss_tokens = tokens;
    }

    /// `(loss sum, tokens)` of this epoch so far, for a mid-epoch checkpoint.
    pub fn epoch_loss(&self) -> (f64, usize) {
        (self.loss_sum, self.loss_tokens)
    }

    /// Mean training loss per token so far this epoch.
    pub fn mean_loss(&self) -> f64 {
        self.loss_sum / self.loss_tokens.max(1) as f64
    }

    /// Target tokens per second of this epoch's training: so far, or up to
    /// [`finish`](Self::finish).
    pub fn tokens_per_second(&self) -> f64 {
        let seconds = self
            .trained_for
            .unwrap_or_else(|| self.started.elapsed())
            .as_secs_f64();
        self.tokens as f64 / seconds.max(1e-9)
    }

    /// Ends the epoch's training: stops its clock and its bar.
    pub fn finish(&mut self) {
        self.trained_for
            .get_or_insert_with(|| self.started.elapsed());
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Prints a line (above the bar, if one is shown).
    pub fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_per_second_stops_counting_at_the_end_of_training() {
        let mut progress = Progress::new(true);
        progress.start_epoch(1, 1, 1);
        std::thread::sleep(Duration::from_millis(20));
        progress.batch(1.0, 1000);
        progress.finish();
        let at_end = progress.tokens_per_second();
        assert!(at_end > 0.0 && at_end <= 1000.0 / 0.02, "{at_end}");
        // Validation and writing the model come after: they must not lower the figure.
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(progress.tokens_per_second(), at_end);
        progress.finish();
        assert_eq!(
            progress.tokens_per_second(),
            at_end,
            "a second finish keeps the first end"
        );
        progress.start_epoch(2, 2, 1);
        assert!(
            progress.trained_for.is_none(),
            "a new epoch starts its own clock"
        );
    }
}
