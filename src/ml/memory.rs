//! How the process's allocator treats the large, short-lived tensors of a training step.
//!
//! A training step allocates and frees buffers of tens to hundreds of megabytes (a ZFNet batch's
//! first feature maps are 111 MB at 8 products x 3 photos). glibc serves each such block with a
//! fresh `mmap` and returns it with `munmap` when freed, so every step the kernel zeroes every
//! page again on first touch: measured on the 2-core dev machine, a quarter of a ZFNet step
//! (Flex and LibTorch alike) was `clear_page_erms` in the kernel. Keeping freed blocks in the
//! heap for the next step removes that, at a cost: until it exits, the process keeps up to
//! 2 GiB of freed memory at the top of its heap, and any freed block below one still in use.

use std::sync::Once;

/// Makes freed training buffers stay in the process for reuse: no `mmap` for large blocks,
/// and the heap trimmed only when more than 2 GiB at its top are free. Process-wide, applied
/// once; a no-op where the C library is not glibc.
pub fn keep_freed_memory() {
    static APPLIED: Once = Once::new();
    APPLIED.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes glibc's allocation parameters; it takes the arena lock
        // and is safe to call from any thread at any time.
        unsafe {
            libc::mallopt(libc::M_MMAP_MAX, 0);
            libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        }
    });
}
