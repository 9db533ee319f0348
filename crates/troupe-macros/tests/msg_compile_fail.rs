//! `msg!` misuse is refused at compile time, each with a clear error
//! (checked in the `.stderr` file next to each case under `ui/`): a request
//! type matched without its token, a token answered twice, a guard on a
//! name the pattern does not bind.
//!
//! The expected errors are rustc's, so a new compiler may word them
//! differently: refresh them with `TRYBUILD=overwrite cargo test -p
//! troupe-macros --test msg_compile_fail` and read the diff.

#[test]
fn msg_misuse_is_refused() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
