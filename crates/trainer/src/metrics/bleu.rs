//! Corpus BLEU as sacreBLEU 2.x computes it by default: `13a` tokenisation, n-grams up to 4,
//! `exp` smoothing, closest reference length.

use std::collections::HashMap;

/// A BLEU score with its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Bleu {
    /// BLEU, 0–100.
    pub score: f64,
    /// n-gram precisions (after smoothing), 0–100.
    pub precisions: [f64; 4],
    /// Brevity penalty.
    pub brevity_penalty: f64,
    /// Total hypothesis length in 13a tokens.
    pub hyp_len: usize,
    /// Total (closest) reference length in 13a tokens.
    pub ref_len: usize,
}

/// sacreBLEU's `13a` tokenizer (mteval-v13a): splits off punctuation and symbols, periods and
/// commas unless between digits, and dashes after digits.
///
/// ```
/// use trainer::metrics::tokenize_13a;
/// assert_eq!(tokenize_13a("A dog's 3.5-kg ball, (red)."), "A dog's 3.5 - kg ball , ( red ) .");
/// ```
pub fn tokenize_13a(line: &str) -> String {
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let chars: Vec<char> = format!(" {line} ").chars().collect();
    // ([\{-\~\[-\` -\&\(-\+\:-\@\/]) → " \1 "
    let symbol =
        |c: char| matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/');
    let mut step1 = Vec::with_capacity(chars.len() * 2);
    for c in chars {
        if symbol(c) {
            step1.extend([' ', c, ' ']);
        } else {
            step1.push(c);
        }
    }
    let digit = |c: char| c.is_ascii_digit();
    let period = |c: char| c == '.' || c == ',';
    // Each rule is one left-to-right pass of non-overlapping two-character matches, as re.sub.
    let pass = |input: Vec<char>,
                hit: &dyn Fn(char, char) -> bool,
                out: &dyn Fn(char, char) -> Vec<char>| {
        let mut result = Vec::with_capacity(input.len() * 2);
        let mut i = 0;
        while i < input.len() {
            if i + 1 < input.len() && hit(input[i], input[i + 1]) {
                result.extend(out(input[i], input[i + 1]));
                i += 2;
            } else {
                result.push(input[i]);
                i += 1;
            }
        }
        result
    };
    // ([^0-9])([\.,]) → "\1 \2 "
    let step2 = pass(step1, &|a, b| !digit(a) && period(b), &|a, b| {
        vec![a, ' ', b, ' ']
    });
    // ([\.,])([^0-9]) → " \1 \2"
    let step3 = pass(step2, &|a, b| period(a) && !digit(b), &|a, b| {
        vec![' ', a, ' ', b]
    });
    // ([0-9])(-) → "\1 \2 "
    let step4 = pass(step3, &|a, b| digit(a) && b == '-', &|a, b| {
        vec![a, ' ', b, ' ']
    });
    step4
        .into_iter()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn ngrams(tokens: &[&str]) -> HashMap<Vec<String>, usize> {
    let mut counts = HashMap::new();
    for n in 1..=4 {
        for window in tokens.windows(n) {
            *counts
                .entry(window.iter().map(|t| t.to_string()).collect())
                .or_insert(0) += 1;
        }
    }
    counts
}

/// sacreBLEU's `my_log`: log, with `log(0) = -9999999999`.
fn my_log(x: f64) -> f64 {
    if x == 0.0 { -9_999_999_999.0 } else { x.ln() }
}

/// Corpus BLEU of detokenised `hypotheses` against `references` (`references[i]` holds every
/// reference of sentence `i`), computed as `sacrebleu.corpus_bleu` does with its defaults.
pub fn corpus_bleu(hypotheses: &[String], references: &[Vec<String>]) -> Bleu {
    let mut correct = [0usize; 4];
    let mut total = [0usize; 4];
    let (mut sys_len, mut ref_len) = (0usize, 0usize);
    for (hyp, refs) in hypotheses.iter().zip(references) {
        let hyp_tok = tokenize_13a(hyp);
        let hyp_tokens: Vec<&str> = hyp_tok.split_whitespace().collect();
        let mut max_ref: HashMap<Vec<String>, usize> = HashMap::new();
        let mut lens = Vec::new();
        for r in refs {
            let tok = tokenize_13a(r);
            let tokens: Vec<&str> = tok.split_whitespace().collect();
            lens.push(tokens.len());
            for (gram, count) in ngrams(&tokens) {
                let slot = max_ref.entry(gram).or_insert(0);
                *slot = (*slot).max(count);
            }
        }
        // Closest reference length, the shorter on ties.
        let hyp_len = hyp_tokens.len();
        let closest = lens
            .iter()
            .copied()
            .min_by_key(|&l| (l.abs_diff(hyp_len), l))
            .unwrap_or(0);
        sys_len += hyp_len;
        ref_len += closest;
        for (gram, count) in ngrams(&hyp_tokens) {
            let n = gram.len() - 1;
            total[n] += count;
            correct[n] += count.min(max_ref.get(&gram).copied().unwrap_or(0));
        }
    }
    let brevity_penalty = if sys_len < ref_len {
        if sys_len > 0 {
            (1.0 - ref_len as f64 / sys_len as f64).exp()
        } else {
            0.0
        }
    } else {
        1.0
    };
    let mut precisions = [0.0; 4];
    if correct.iter().all(|&c| c == 0) {
        return Bleu {
            score: 0.0,
            precisions,
            brevity_penalty,
            hyp_len: sys_len,
            ref_len,
        };
    }
    let mut smooth = 1.0;
    for n in 0..4 {
        if total[n] == 0 {
            break;
        }
        precisions[n] = if correct[n] == 0 {
            smooth *= 2.0;
            100.0 / (smooth * total[n] as f64)
        } else {
            100.0 * correct[n] as f64 / total[n] as f64
        };
    }
    let score = brevity_penalty * (precisions.iter().map(|&p| my_log(p)).sum::<f64>() / 4.0).exp();
    Bleu {
        score,
        precisions,
        brevity_penalty,
        hyp_len: sys_len,
        ref_len,
    }
}
