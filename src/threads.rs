//! Panics at thread boundaries become values: the one place a panic's payload turns into a
//! message, so every worker reports a failure as an event or a record instead of vanishing.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The message a panic carried (`panic!` payloads are a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `work`, turning a panic into `Err` with its message. Callers own whatever `work`
/// touched and must treat it as suspect after an `Err` (drop it, or only read it).
pub fn catch<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| panic_message(&*payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catch(|| 7), Ok(7));
        assert_eq!(
            catch(|| -> u32 { panic!("attempt to divide by zero") }),
            Err("attempt to divide by zero".to_string())
        );
        let n = 3;
        assert_eq!(
            catch(|| -> u32 { panic!("index {n} out of range") }),
            Err("index 3 out of range".to_string())
        );
        assert_eq!(
            catch(|| std::panic::panic_any(42_u8)),
            Err("a panic without a message".to_string())
        );
    }
}
