//! The interleaved measurement the benches share: rounds of every case in turn, reported
//! as the fastest tenth.

use std::time::{Duration, Instant};

/// One measured operation.
pub type Case<'a> = Box<dyn FnMut() + 'a>;

/// Rounds of the measurement: each round runs every case for a batch, in turn, so that a
/// change of load on the machine hits all cases alike. The figure is the 10th percentile of
/// the rounds' times per operation: on a shared machine other work only ever adds time, so
/// the faster rounds are the ones that measured the code.
const ROUNDS: usize = 101;
/// How long one case's batch runs, roughly.
const BATCH: Duration = Duration::from_millis(8);

/// Measures `cases` as group `group`, prints each case's time per operation and returns it.
pub fn report<'a>(group: &str, mut cases: Vec<(&'a str, Case<'a>)>) -> Vec<(&'a str, f64)> {
    // `cargo bench -p herald --bench codec -- decode/herald` runs the cases so named only.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    cases.retain(|(name, _)| {
        filters.is_empty()
            || filters
                .iter()
                .any(|filter| format!("{group}/{name}").contains(filter.as_str()))
    });
    // Calibrate each case's batch size, which also warms it up.
    let sizes: Vec<u32> = cases
        .iter_mut()
        .map(|(_, run)| {
            let mut n = 1u32;
            loop {
                let start = Instant::now();
                for _ in 0..n {
                    run();
                }
                if start.elapsed() >= BATCH / 4 || n >= 1 << 24 {
                    let per = start.elapsed().as_secs_f64() / f64::from(n);
                    return ((BATCH.as_secs_f64() / per) as u32).max(1);
                }
                n *= 2;
            }
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(ROUNDS); cases.len()];
    let mut order: Vec<usize> = (0..cases.len()).collect();
    for _ in 0..ROUNDS {
        // Every other round runs the cases backwards, so that no case always follows another.
        order.reverse();
        for &i in &order {
            let start = Instant::now();
            for _ in 0..sizes[i] {
                (cases[i].1)();
            }
            samples[i].push(start.elapsed().as_secs_f64() * 1e9 / f64::from(sizes[i]));
        }
    }
    println!("{group} (ns per event, fastest tenth of {ROUNDS} interleaved rounds):");
    cases
        .iter()
        .zip(&mut samples)
        .map(|((name, _), times)| {
            times.sort_by(f64::total_cmp);
            let fast = times[times.len() / 10];
            println!("  {name:<24} {fast:>9.0}");
            (*name, fast)
        })
        .collect()
}
