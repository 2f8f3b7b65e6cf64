//! UI tests: each file in `tests/ui/` is one misuse of `#[derive(Event)]`, and its `.stderr`
//! pins the message and the span. Regenerate with `TRYBUILD=overwrite` and read the result.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
