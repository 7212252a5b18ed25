//! glibc heap tuning: give freed memory back to the kernel.
//!
//! A big XML-RPC reply (`getAllProcessInfo` with 500 processes is ~400 KB,
//! built as a value tree, then a string, then the connection buffer) leaves
//! its high-water mark in the heap, and glibc's default dynamic thresholds
//! keep it: the daemon's RSS grew by ~2 MiB over repeated `status` calls.
//! Other libcs (musl) have no `mallopt`, so this is glibc only.

/// Make big buffers mmapped and trim the heap top early.
///
/// `mallopt(M_MMAP_THRESHOLD, 64 KiB)`: allocations of 64 KiB and more get
/// their own mapping and are unmapped on free (setting it also stops glibc
/// from raising the threshold, and the trim threshold with it, after the
/// first big free). `mallopt(M_TRIM_THRESHOLD, 128 KiB)`: free space above
/// that at the top of the heap is returned. Call once, early, before any
/// thread exists.
#[cfg(target_env = "gnu")]
pub fn return_memory_eagerly() {
    // SAFETY: mallopt only changes allocator parameters; glibc takes its
    // own lock. A 0 return (unsupported value) leaves the defaults.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(target_env = "gnu"))]
pub fn return_memory_eagerly() {}

/// `malloc_trim(0)`: return every whole free page of the heap (not only its
/// top) to the kernel. Costs a walk of the free lists, so call it only after
/// something big was freed.
#[cfg(target_env = "gnu")]
pub fn trim() {
    // SAFETY: malloc_trim takes the arena locks itself and touches only
    // free chunks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(target_env = "gnu"))]
pub fn trim() {}
