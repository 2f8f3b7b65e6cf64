//! The natural order of names, as people read them: runs of digits compare as numbers, so
//! `conc-2` comes before `conc-10`.

use std::cmp::Ordering;

/// Compares `a` and `b`: runs of ASCII digits by their value, everything else byte by byte;
/// names equal that way are ordered by their first run that differs in leading zeros (`a1`
/// before `a01`), then by their bytes, so the order is total.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    let mut zeros = Ordering::Equal;
    while let (Some(p), Some(q)) = (x.first(), y.first()) {
        if p.is_ascii_digit() && q.is_ascii_digit() {
            let (m, rest_x) = digits(x);
            let (n, rest_y) = digits(y);
            let order = number(m).cmp(&number(n));
            if order != Ordering::Equal {
                return order;
            }
            zeros = zeros.then(m.len().cmp(&n.len()));
            (x, y) = (rest_x, rest_y);
        } else {
            if p != q {
                return p.cmp(q);
            }
            (x, y) = (&x[1..], &y[1..]);
        }
    }
    x.len().cmp(&y.len()).then(zeros).then_with(|| a.cmp(b))
}

/// The leading run of digits of `text`, and the rest.
fn digits(text: &[u8]) -> (&[u8], &[u8]) {
    let end = text
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// A run of digits as a value that orders like its number, however long: its significant
/// digits' count, then the digits.
fn number(run: &[u8]) -> (usize, &[u8]) {
    let start = run.iter().position(|&b| b != b'0').unwrap_or(run.len());
    let significant = &run[start..];
    (significant.len(), significant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_compare_as_numbers() {
        let mut names = vec![
            "conc-10",
            "conc-2",
            "conc-1",
            "conc-02",
            "conc",
            "b",
            "a-100000000000000000000009",
            "a-99",
            "conc-2-x",
            "Conc-3",
        ];
        names.sort_by(|a, b| compare(a, b));
        assert_eq!(
            names,
            [
                "Conc-3",
                "a-99",
                "a-100000000000000000000009",
                "b",
                "conc",
                "conc-1",
                "conc-2",
                "conc-02",
                "conc-2-x",
                "conc-10",
            ]
        );
        assert_eq!(compare("x", "x"), Ordering::Equal);
    }
}
