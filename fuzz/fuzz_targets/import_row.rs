//! Feeds arbitrary bytes through the invoices kind's CSV reading and row checks: they may
//! reject anything, but never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    app::services::import::scan_invoices(data);
});
