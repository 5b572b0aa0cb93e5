//! Manifest parsing: any text is a manifest or an error, never a panic; a manifest that reads
//! is written and read back to the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snakepit_bridge_spec::{host_tools_markdown, tool_drift, Manifest};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(manifest) = Manifest::from_json(text) else {
        return;
    };
    let written = manifest.to_json();
    let again = Manifest::from_json(&written).expect("a written manifest reads back");
    assert_eq!(again, manifest, "a written manifest reads back unchanged");
    assert!(tool_drift(&manifest.tools, &again.tools).is_empty());
    let _ = host_tools_markdown("fuzz", &manifest.tools);
});
