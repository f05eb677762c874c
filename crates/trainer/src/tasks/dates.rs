//! `dates`: normalise human-written dates ("tuesday, march 3, 1998", "3/3/98") to ISO 8601
//! ("1998-03-03"). Generated in-crate from a seed; train, valid and test use disjoint dates.

use std::path::Path;

use crate::data::{EvalItem, Pair, TaskData};
use crate::text_file::read_text_file;
use crate::{Result, TrainerError};
use inference::SplitSizes;
use inference::Tokenizer;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
/// Years covered; two-digit years are read as 1950–2049.
const FIRST_YEAR: u32 = 1950;
const LAST_YEAR: u32 = 2049;

/// How many examples of each split [`generate`] makes by default: 20 000 / 1 000 / 1 000.
pub const DEFAULT_SIZES: SplitSizes = SplitSizes::DATES_DEFAULT;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Date {
    /// Year, 1950–2049.
    pub year: u32,
    /// Month, 1–12.
    pub month: u32,
    /// Day, 1–31.
    pub day: u32,
}

impl Date {
    /// `YYYY-MM-DD`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// 0 = Sunday (Sakamoto's method).
    pub fn weekday(&self) -> usize {
        const T: [u32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let y = if self.month < 3 {
            self.year - 1
        } else {
            self.year
        };
        ((y + y / 4 - y / 100 + y / 400 + T[self.month as usize - 1] + self.day) % 7) as usize
    }

    fn days_in_month(year: u32, month: u32) -> u32 {
        match month {
            4 | 6 | 9 | 11 => 30,
            2 if (year.is_multiple_of(4) && !year.is_multiple_of(100))
                || year.is_multiple_of(400) =>
            {
                29
            }
            2 => 28,
            _ => 31,
        }
    }

    /// Every date of the covered years, in order.
    pub fn all() -> Vec<Date> {
        (FIRST_YEAR..=LAST_YEAR)
            .flat_map(|year| {
                (1..=12).flat_map(move |month| {
                    (1..=Self::days_in_month(year, month)).map(move |day| Date { year, month, day })
                })
            })
            .collect()
    }
}

fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

/// The number of written forms [`format()`] knows.
pub const FORMATS: usize = 24;

/// Date `d` written in form `f` (`0..FORMATS`).
///
/// ```
/// use trainer::tasks::dates::{Date, format};
/// let d = Date { year: 1998, month: 3, day: 3 };
/// assert_eq!(format(&d, 0), "tuesday, march 3, 1998");
/// assert_eq!(format(&d, 3), "3/3/98");
/// assert_eq!(format(&d, 5), "03.03.1998");
/// assert_eq!(format(&d, 6), "mar 3 98");
/// ```
pub fn format(d: &Date, f: usize) -> String {
    let month = MONTHS[d.month as usize - 1];
    let mon = &month[..3];
    let weekday = WEEKDAYS[d.weekday()];
    let wd = &weekday[..3];
    let (y, m, day) = (d.year, d.month, d.day);
    let yy = y % 100;
    match f {
        0 => format!("{weekday}, {month} {day}, {y}"),
        1 => format!("{month} {day}, {y}"),
        2 => format!("{day} {month} {y}"),
        3 => format!("{m}/{day}/{yy:02}"),
        4 => format!("{m:02}/{day:02}/{y}"),
        5 => format!("{day:02}.{m:02}.{y}"),
        6 => format!("{mon} {day} {yy:02}"),
        7 => format!("{mon} {day}, {y}"),
        8 => format!("{day} {mon} {y}"),
        9 => format!("{y}/{m:02}/{day:02}"),
        10 => format!("{y}{m:02}{day:02}"),
        11 => format!("{} of {month} {y}", ordinal(day)),
        12 => format!("{month} {}, {y}", ordinal(day)),
        13 => format!("{wd} {mon} {day} {y}"),
        14 => format!("{day}-{mon}-{y}"),
        15 => format!("{day:02}-{m:02}-{y}"),
        16 => format!("{y}.{m:02}.{day:02}"),
        17 => format!("the {} of {month}, {y}", ordinal(day)),
        18 => format!("{weekday} {day} {month} {y}"),
        19 => format!("{mon}. {day}, {y}"),
        20 => format!("{day} {month} '{yy:02}"),
        21 => format!("{y}, {month} {day}"),
        22 => format!("{day}.{m}.{yy:02}"),
        23 => format!("{wd}, {day} {mon} {y}"),
        _ => panic!("date format {f} out of range 0..{FORMATS}"),
    }
}

/// A small deterministic generator (SplitMix64), so a seed always gives the same data.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Generates the `dates` task from `seed`: the dates of 1950–2049 are shuffled and split
/// 90/5/5 into train, valid and test pools (so no date, hence no source, is in two splits),
/// then each example draws a date from its pool and one of the [`FORMATS`] written forms.
pub fn generate(seed: u64, sizes: SplitSizes) -> TaskData {
    let mut rng = SplitMix::new(seed);
    let mut dates = Date::all();
    rng.shuffle(&mut dates);
    let n_valid = dates.len() / 20;
    let (valid_pool, rest) = dates.split_at(n_valid);
    let (test_pool, train_pool) = rest.split_at(n_valid);

    let mut draw = |pool: &[Date], n: usize| -> Vec<(String, String)> {
        (0..n)
            .map(|_| {
                let date = pool[rng.below(pool.len())];
                (format(&date, rng.below(FORMATS)), date.iso())
            })
            .collect()
    };
    let chars = Tokenizer::Chars;
    let train = draw(train_pool, sizes.train)
        .into_iter()
        .map(|(s, t)| Pair {
            source: chars.tokenize(&s),
            target: chars.tokenize(&t),
        })
        .collect();
    let mut items = |pool: &[Date], n: usize| -> Vec<EvalItem> {
        draw(pool, n)
            .into_iter()
            .map(|(s, t)| EvalItem {
                source: chars.tokenize(&s),
                source_text: s,
                references: vec![chars.tokenize(&t)],
                reference_texts: vec![t],
            })
            .collect()
    };
    let valid = items(valid_pool, sizes.valid);
    let test = items(test_pool, sizes.test);
    TaskData {
        train,
        valid,
        test,
        checksums: vec![],
    }
}

/// Evaluation items from a file of lines `INPUT<TAB>OUTPUT` (blank lines skipped), each read
/// as characters like the generated data.
///
/// # Errors
///
/// [`TrainerError::Parse`] naming the line without a tab, or with an empty side; the reading
/// errors of [`read_text_file`]; [`TrainerError::Empty`] for a file with no item.
pub fn read_items(path: &Path) -> Result<Vec<EvalItem>> {
    let chars = Tokenizer::Chars;
    let mut items = Vec::new();
    for (i, line) in read_text_file(path)?.lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (source, target) = line
            .split_once('\t')
            .filter(|(s, t)| !s.trim().is_empty() && !t.trim().is_empty())
            .ok_or_else(|| TrainerError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("{line:?} is not INPUT<TAB>OUTPUT"),
            })?;
        let (source, target) = (source.trim().to_string(), target.trim().to_string());
        items.push(EvalItem {
            source: chars.tokenize(&source),
            source_text: source,
            references: vec![chars.tokenize(&target)],
            reference_texts: vec![target],
        });
    }
    if items.is_empty() {
        return Err(TrainerError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn weekdays_are_right() {
        // 1998-03-03 was a Tuesday; 2000-01-01 a Saturday; 1970-01-01 a Thursday.
        assert_eq!(
            Date {
                year: 1998,
                month: 3,
                day: 3
            }
            .weekday(),
            2
        );
        assert_eq!(
            Date {
                year: 2000,
                month: 1,
                day: 1
            }
            .weekday(),
            6
        );
        assert_eq!(
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
            .weekday(),
            4
        );
    }

    #[test]
    fn every_format_is_distinct_and_leap_days_exist() {
        let d = Date {
            year: 2004,
            month: 2,
            day: 29,
        };
        let forms: HashSet<String> = (0..FORMATS).map(|f| format(&d, f)).collect();
        assert_eq!(forms.len(), FORMATS, "{forms:?}");
        assert!(Date::all().contains(&d));
        assert!(!Date::all().contains(&Date {
            year: 2100,
            month: 2,
            day: 29
        }));
        assert_eq!(Date::all().len(), 36_525);
    }

    #[test]
    fn splits_are_disjoint_and_seeded() {
        let sizes = SplitSizes {
            train: 3000,
            valid: 300,
            test: 300,
        };
        let a = generate(5, sizes);
        let b = generate(5, sizes);
        assert_eq!(a.train, b.train, "same seed, same data");
        assert_ne!(
            a.train,
            generate(6, sizes).train,
            "another seed, other data"
        );
        let targets = |items: &[EvalItem]| -> HashSet<String> {
            items.iter().map(|i| i.references[0].concat()).collect()
        };
        let train: HashSet<String> = a.train.iter().map(|p| p.target.concat()).collect();
        let (valid, test) = (targets(&a.valid), targets(&a.test));
        assert!(train.is_disjoint(&valid) && train.is_disjoint(&test) && valid.is_disjoint(&test));
    }
}
