//! Scores printed as the commands print them.

/// `name value, name value, …` with two decimals.
fn format_scores(scores: &std::collections::BTreeMap<String, f64>) -> String {
    let parts: Vec<String> = scores.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
    parts.join(", ")
}

pub(crate) fn print_scores(evaluation: &trainer::Evaluation) {
    println!(
        "{} scores ({} items, {}): {}; perplexity {:.2}",
        evaluation.split,
        evaluation.items,
        if evaluation.beam > 1 {
            format!("beam {}", evaluation.beam)
        } else {
            "greedy".into()
        },
        format_scores(&evaluation.scores),
        evaluation.perplexity
    );
    for bucket in &evaluation.by_length {
        println!(
            "  source length {:>6} ({:>5} items): {}",
            trainer::bucket_label(bucket),
            bucket.items,
            format_scores(&bucket.scores)
        );
    }
}
