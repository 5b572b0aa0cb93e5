//! A lane frame's term, as the worker reads it: the shape check, then (only for what passes it)
//! `eetf`'s decoder. Either refuses, never panics, and never allocates more than the frame's
//! size allows (a length that runs past the end is refused before the decoder sees it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use snakepit_bridge_spec::lane::{check_term_shape, split_frame};

fuzz_target!(|data: &[u8]| {
    let _ = split_frame(data);
    if check_term_shape(data).is_ok() {
        let _ = eetf::Term::decode(data);
    }
});
