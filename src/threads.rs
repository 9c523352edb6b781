//! Thread boundaries: a panic in a worker becomes a message its owner reports (as a `failed`
//! record, an event), instead of a thread that silently disappears.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The message of a panic payload (`panic!` with a literal or a formatted string), or a
/// placeholder for payloads of other types.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `work`, turning a panic into `Err` with its message. The work's state is not used
/// after a panic (the caller only reports it), hence the unwind-safety assertion.
pub fn catch<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| panic_message(payload.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catch(|| 7), Ok(7));
        assert_eq!(
            catch(|| -> u8 { panic!("attempt to divide by zero") }),
            Err("attempt to divide by zero".to_string())
        );
        let n = 3;
        assert_eq!(
            catch(|| -> u8 { panic!("index {n} out of range") }),
            Err("index 3 out of range".to_string())
        );
        assert_eq!(
            catch(|| std::panic::panic_any(42u8)),
            Err("a panic without a message".to_string())
        );
    }
}
