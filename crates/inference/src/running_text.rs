//! Running text for G2P: a line cut into the words to pronounce and the punctuation to keep,
//! numbers spelled out in words as a speech front end reads them.

/// One piece of a line of running text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextPiece {
    /// A word to pronounce (lower-cased), with the text it came from (`2026` for the words
    /// `twenty`, `twenty`, `six`).
    Word {
        /// The word.
        word: String,
        /// The text it was read from.
        from: String,
    },
    /// A punctuation mark or other symbol, kept as it is.
    Punctuation(String),
}

/// `line` cut into words and punctuation, in order: letters (with inner apostrophes, as in
/// `it's`) make a word; a number is spelled out in words as g2p_en does (`2026` → `twenty
/// twenty six`, a year; `1,250` → `one thousand two hundred fifty`; `3.5` → `three point five`;
/// `21st` → `twenty first`; `$5` → `five dollars`; `50%` → `fifty percent`); every other
/// character but whitespace is punctuation of its own.
pub fn split_running_text(line: &str) -> Vec<TextPiece> {
    let chars: Vec<char> = line.chars().collect();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphabetic()
                    || (chars[i] == '\'' && i + 1 < chars.len() && chars[i + 1].is_alphabetic()))
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            pieces.push(TextPiece::Word {
                word: text.to_lowercase(),
                from: text,
            });
        } else if c.is_ascii_digit()
            || (c == '$' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i = number_end(&chars, i);
            let text: String = chars[start..i].iter().collect();
            for word in spell_number_text(&text).split(' ') {
                pieces.push(TextPiece::Word {
                    word: word.to_string(),
                    from: text.clone(),
                });
            }
        } else {
            pieces.push(TextPiece::Punctuation(c.to_string()));
            i += 1;
        }
    }
    pieces
}

/// Where the number starting at `chars[start]` ends: `$`, digits with thousands commas, a
/// decimal part, an ordinal suffix, a `%`.
fn number_end(chars: &[char], start: usize) -> usize {
    let mut i = start + usize::from(chars[start] == '$');
    let digit_at = |k: usize| chars.get(k).is_some_and(char::is_ascii_digit);
    while digit_at(i)
        || (matches!(chars.get(i), Some(',' | '.')) && digit_at(i + 1) && digit_at(i - 1))
    {
        i += 1;
    }
    let suffix: String = chars[i..chars.len().min(i + 2)]
        .iter()
        .collect::<String>()
        .to_lowercase();
    if ["st", "nd", "rd", "th"].contains(&suffix.as_str())
        && !chars.get(i + 2).is_some_and(|c| c.is_alphanumeric())
    {
        i += 2;
    } else if chars.get(i) == Some(&'%') {
        i += 1;
    }
    i
}

/// A number as written (`$2.50`, `1,250`, `3.5`, `21st`, `50%`, `1999`) in words.
fn spell_number_text(text: &str) -> String {
    if let Some(amount) = text.strip_prefix('$') {
        return dollars(amount);
    }
    if let Some(number) = text.strip_suffix('%') {
        return format!("{} percent", spell_number_text(number));
    }
    let lower = text.to_lowercase();
    if let Some(number) = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|s| lower.strip_suffix(s))
    {
        return ordinal(&spell_number_text(number));
    }
    let plain = text.replace(',', "");
    if let Some((whole, fraction)) = plain.split_once('.') {
        let digits: Vec<&str> = fraction.chars().map(digit_word).collect();
        return format!("{} point {}", spell_digits(whole), digits.join(" "));
    }
    if !text.contains(',')
        && plain.len() == 4
        && let Ok(year) = plain.parse::<u64>()
        && (1001..3000).contains(&year)
    {
        return spell_year(year);
    }
    spell_digits(&plain)
}

/// A run of digits as a cardinal, or digit by digit when too long for one.
fn spell_digits(digits: &str) -> String {
    match digits.parse::<u64>() {
        Ok(n) if digits.len() <= 15 => cardinal(n),
        _ => digits.chars().map(digit_word).collect::<Vec<_>>().join(" "),
    }
}

/// `$amount` in words: `five dollars`, `one dollar`, `two dollars fifty cents`.
fn dollars(amount: &str) -> String {
    let plain = amount.replace(',', "");
    let (whole, cents) = plain.split_once('.').unwrap_or((&plain, ""));
    let whole: u64 = whole.parse().unwrap_or(0);
    let cents: u64 = cents
        .get(..cents.len().min(2))
        .and_then(|c| format!("{c:0<2}").parse().ok())
        .unwrap_or(0);
    let unit = |n: u64, one: &str, many: &str| {
        format!("{} {}", cardinal(n), if n == 1 { one } else { many })
    };
    match (whole, cents) {
        (_, 0) => unit(whole, "dollar", "dollars"),
        (0, _) => unit(cents, "cent", "cents"),
        _ => format!(
            "{} {}",
            unit(whole, "dollar", "dollars"),
            unit(cents, "cent", "cents")
        ),
    }
}

/// A year as it is said: `nineteen ninety nine`, `nineteen oh five`, `two thousand`, `two
/// thousand seven`, `nineteen hundred`.
fn spell_year(year: u64) -> String {
    let (high, low) = (year / 100, year % 100);
    if year == 2000 || (2001..2010).contains(&year) {
        return cardinal(year);
    }
    match low {
        0 => format!("{} hundred", cardinal(high)),
        1..=9 => format!("{} oh {}", cardinal(high), cardinal(low)),
        _ => format!("{} {}", cardinal(high), cardinal(low)),
    }
}

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// `n` in words, without "and" or hyphens: `one thousand two hundred fifty`.
fn cardinal(n: u64) -> String {
    const SCALES: [(u64, &str); 4] = [
        (1_000_000_000_000, "trillion"),
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ];
    if n < 20 {
        return ONES[n as usize].to_string();
    }
    if n < 100 {
        let tens = TENS[(n / 10) as usize];
        return if n.is_multiple_of(10) {
            tens.to_string()
        } else {
            format!("{tens} {}", ONES[(n % 10) as usize])
        };
    }
    if n < 1000 {
        let rest = n % 100;
        let head = format!("{} hundred", ONES[(n / 100) as usize]);
        return if rest == 0 {
            head
        } else {
            format!("{head} {}", cardinal(rest))
        };
    }
    let (scale, name) = SCALES
        .iter()
        .find(|(s, _)| n >= *s)
        .copied()
        .expect("n ≥ 1000");
    let rest = n % scale;
    let head = format!("{} {name}", cardinal(n / scale));
    if rest == 0 {
        head
    } else {
        format!("{head} {}", cardinal(rest))
    }
}

/// A digit's word (`oh` is not used: `zero`).
fn digit_word(c: char) -> &'static str {
    c.to_digit(10).map_or("", |d| ONES[d as usize])
}

/// The ordinal of a spelled cardinal: its last word made ordinal (`twenty one` → `twenty
/// first`).
fn ordinal(words: &str) -> String {
    let (head, last) = words.rsplit_once(' ').map_or(("", words), |(h, l)| (h, l));
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    if head.is_empty() {
        last
    } else {
        format!("{head} {last}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split_running_text(line)
            .into_iter()
            .map(|p| match p {
                TextPiece::Word { word, .. } => word,
                TextPiece::Punctuation(p) => p,
            })
            .collect()
    }

    #[test]
    fn words_punctuation_and_numbers_in_order() {
        assert_eq!(
            words("Hello, world! It's 2026."),
            [
                "hello", ",", "world", "!", "it's", "twenty", "twenty", "six", "."
            ]
        );
        assert_eq!(words("rock 'n' roll"), ["rock", "'", "n", "'", "roll"]);
    }

    #[test]
    fn numbers_are_spelled_as_they_are_read() {
        let spelled = |text: &str| words(text).join(" ");
        assert_eq!(spelled("1,250"), "one thousand two hundred fifty");
        assert_eq!(spelled("3.5"), "three point five");
        assert_eq!(spelled("21st"), "twenty first");
        assert_eq!(spelled("12th"), "twelfth");
        assert_eq!(spelled("$5"), "five dollars");
        assert_eq!(spelled("$1"), "one dollar");
        assert_eq!(spelled("$2.50"), "two dollars fifty cents");
        assert_eq!(spelled("50%"), "fifty percent");
        assert_eq!(spelled("1999"), "nineteen ninety nine");
        assert_eq!(spelled("1905"), "nineteen oh five");
        assert_eq!(spelled("2000"), "two thousand");
        assert_eq!(spelled("2007"), "two thousand seven");
        assert_eq!(spelled("1900"), "nineteen hundred");
        assert_eq!(spelled("7"), "seven");
        assert_eq!(spelled("90"), "ninety");
        assert_eq!(spelled("1000000"), "one million");
        assert_eq!(spelled("mp3"), "mp three");
        assert_eq!(
            spelled("12345678901234567890"),
            "one two three four five six seven eight nine zero one two three four five six seven eight nine zero"
        );
    }
}
